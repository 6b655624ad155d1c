import { Module } from '@nestjs/common';
import { ClusterNodesController } from './http/cluster-nodes.controller';
import { MembershipService } from './lifecycle/membership.service';
import { FailureDetectorService } from './liveness/failure-detector.service';
import { NodeHeartbeat } from './liveness/node-heartbeat';

/** Runs in every node, whatever its targets. */
@Module({ controllers: [ClusterNodesController], providers: [MembershipService, NodeHeartbeat, FailureDetectorService] })
export class MembershipModule {}
