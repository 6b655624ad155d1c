import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import type { Request } from 'express';
import { QUARRY_CONFIG } from '../di/tokens';
import type { QuarryConfig } from '../config/quarry-config';
import { CLUSTER_SECRET_HEADER, ClusterSecret } from './cluster-secret';

/**
 * Guards the routes nodes call on each other (`/internal/...`): only a request carrying the
 * cluster secret gets through (403 otherwise). A node without a secret runs alone and has no
 * internal routes at all (404).
 */
@Injectable()
export class ClusterPeersOnly implements CanActivate {
  private readonly secret: ClusterSecret;

  constructor(@Inject(QUARRY_CONFIG) config: QuarryConfig) {
    this.secret = new ClusterSecret(config.clusterSecret);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.secret.configured) throw new LensError('RESOURCE_NOT_FOUND', 'no such route: this node runs alone (no QUARRY_CLUSTER_SECRET) and has no internal routes');
    const given = context.switchToHttp().getRequest<Request>().headers[CLUSTER_SECRET_HEADER];
    if (!this.secret.matches(given)) throw new LensError('NOT_AUTHORIZED', 'only the nodes of this cluster may call internal routes');
    return true;
  }
}
