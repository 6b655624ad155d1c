import { Controller, Get } from '@nestjs/common';
import { ClusterView } from '@quarry/membership';
import { ApiRoute } from '@quarry/platform';

/** GET /cluster/nodes: the membership view every node shares (ClusterView). */
@Controller('cluster')
export class ClusterNodesController {
  constructor(private readonly view: ClusterView) {}

  @ApiRoute({ tag: 'cluster', summary: 'Every node incarnation seen: state, heartbeat, running queries, held results', answer: { json: { type: 'object', properties: { nodes: { type: 'array', items: { type: 'object', properties: { nodeId: { type: 'string' }, incarnation: { type: 'string' }, httpUrl: { type: 'string' }, services: { type: 'array', items: { type: 'string' } }, state: { type: 'string', enum: ['UP', 'LEFT', 'DOWN'] }, joinedAt: { type: 'string', format: 'date-time' }, endedAt: { type: 'string', format: 'date-time', nullable: true }, lastHeartbeatAt: { type: 'string', format: 'date-time', nullable: true }, msSinceHeartbeat: { type: 'integer', nullable: true }, runningQueries: { type: 'object', properties: { count: { type: 'integer' }, handles: { type: 'array', items: { type: 'string' } } } }, heldResults: { type: 'object', properties: { count: { type: 'integer' }, bytes: { type: 'integer' } } } } } } } } } })
  @Get('nodes')
  async nodes() {
    return { nodes: await this.view.nodes() };
  }
}
