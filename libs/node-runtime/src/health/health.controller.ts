import { Controller, Get, HttpStatus, Inject, Req, Res, type OnModuleDestroy } from '@nestjs/common';
import { ApiRoute, DB_POOL, IncarnationEnd, KAFKA, NODE_IDENTITY, RUNNING_SERVICES, type NodeIdentity } from '@quarry/platform';
import type { Request, Response } from 'express';
import type { Admin, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { ProjectionHost } from '../projections/projection-host';
import { BalancerNotice } from './balancer-notice';
import { checkReadiness } from './readiness';

/** Liveness names the node (and says when it is leaving); readiness says whether its database and broker answer, and how far behind its projections are. */
@Controller()
export class HealthController implements OnModuleDestroy {
  private admin?: Admin;

  constructor(
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(RUNNING_SERVICES) private readonly services: string[],
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly end: IncarnationEnd,
    private readonly projections: ProjectionHost,
    private readonly notice: BalancerNotice,
  ) {}

  /** 503 while the node drains or halts, so a balancer stops sending it new work. */
  @ApiRoute({ tag: 'node', summary: 'Liveness: the node, its incarnation and services; 503 while it drains', answer: { json: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'leaving'] }, node: { type: 'string' }, incarnation: { type: 'string' }, services: { type: 'array', items: { type: 'string' } }, startedAt: { type: 'string', format: 'date-time' } } } }, otherAnswers: { 503: 'the node is leaving (drain after SIGTERM)' } })
  @Get('health')
  health(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (this.end.isLeaving) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    this.notice.answered(req.socket.remoteAddress, this.end.isLeaving);
    return {
      status: this.end.isLeaving ? 'leaving' : 'up',
      node: this.identity.nodeId,
      incarnation: this.identity.incarnation,
      services: this.services,
      startedAt: this.identity.startedAt.toISOString(),
    };
  }

  @ApiRoute({ tag: 'node', summary: 'Readiness: PostgreSQL and Kafka checks, projection lag', answer: { json: { type: 'object' } }, otherAnswers: { 503: 'PostgreSQL or Kafka does not answer' } })
  @Get('ready')
  async ready(@Res() res: Response) {
    const report = await checkReadiness(this.pool, this.healthAdmin(), () => this.projections.lags());
    res.status(report.ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ node: this.identity.nodeId, ...report });
  }

  async onModuleDestroy() {
    await this.admin?.disconnect().catch(() => undefined);
  }

  private healthAdmin(): Admin {
    // kafkajs connects lazily and reconnects on its own after a broker comes back.
    this.admin ??= this.kafka.admin({ retry: { retries: 0 } });
    return this.admin;
  }
}
