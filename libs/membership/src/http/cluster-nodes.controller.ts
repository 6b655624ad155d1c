import { Controller, Get } from '@nestjs/common';
import { ClusterView } from '../directory/cluster-view';

/** GET /cluster/nodes: the membership view every node shares (ClusterView). */
@Controller('cluster')
export class ClusterNodesController {
  constructor(private readonly view: ClusterView) {}

  @Get('nodes')
  async nodes() {
    return { nodes: await this.view.nodes() };
  }
}
