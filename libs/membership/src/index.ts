import { NodeHeartbeats1764000000110 } from './liveness/1764000000110-node-heartbeats';
import { HeartbeatUrl1764000000120 } from './liveness/1764000000120-heartbeat-url';
import { Nodes1764000000100 } from './projection/1764000000100-nodes';
import { nodesProjection } from './projection/nodes.projection';

export { MembershipModule } from './membership.module';
export { NodeDirectory, type NodeEntry } from './directory/node-directory';
export { ClusterView, type ClusterNode } from './directory/cluster-view';
export const MEMBERSHIP_MIGRATIONS = [Nodes1764000000100, NodeHeartbeats1764000000110, HeartbeatUrl1764000000120];
/** Kept by the appends (ADR 12): `nodes`. */
export const MEMBERSHIP_INLINE_PROJECTIONS = [nodesProjection];
export { NodeEndWatcher, type NodeEnded, type NodeEndHandler } from './liveness/node-end-watcher';
