import { Global, Module } from '@nestjs/common';
import { ClusterView } from './directory/cluster-view';
import { MembershipService } from './lifecycle/membership.service';
import { FailureDetectorService } from './liveness/failure-detector.service';
import { IncarnationEnder } from './liveness/incarnation-ender';
import { NodeHeartbeat } from './liveness/node-heartbeat';
import { NodeEndWatcher } from './liveness/node-end-watcher';

/** Runs in every node, whatever its targets; its NodeEndWatcher serves every service. */
@Global()
@Module({
  providers: [ClusterView, MembershipService, NodeHeartbeat, FailureDetectorService, IncarnationEnder, NodeEndWatcher],
  exports: [NodeEndWatcher, ClusterView],
})
export class MembershipModule {}
