import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ClusterView } from '@quarry/membership';
import { GrpcErrorsFilter } from './grpc-errors.filter';

const millis = (at: Date | null) => (at ? at.getTime() : 0);

/** quarry.v1.ClusterService: the membership view of GET /cluster/nodes. */
@Controller()
@UseFilters(GrpcErrorsFilter)
export class ClusterGrpcController {
  constructor(private readonly view: ClusterView) {}

  @GrpcMethod('ClusterService', 'Nodes')
  async nodes() {
    const nodes = await this.view.nodes();
    return {
      nodes: nodes.map((n) => ({
        nodeId: n.nodeId,
        incarnation: n.incarnation,
        httpUrl: n.httpUrl,
        services: n.services,
        state: n.state,
        joinedAt: millis(n.joinedAt),
        endedAt: millis(n.endedAt),
        lastHeartbeatAt: millis(n.lastHeartbeatAt),
        runningQueries: n.runningQueries.count,
        heldResults: n.heldResults.count,
        heldResultBytes: n.heldResults.bytes,
      })),
    };
  }
}
