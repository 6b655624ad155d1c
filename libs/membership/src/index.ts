import { NodeHeartbeats1764000000110 } from './liveness/1764000000110-node-heartbeats';
import { Nodes1764000000100 } from './projection/1764000000100-nodes';
import { nodesProjection } from './projection/nodes.projection';

export { MembershipModule } from './membership.module';
export { NodeDirectory, type NodeEntry } from './directory/node-directory';
export const MEMBERSHIP_MIGRATIONS = [Nodes1764000000100, NodeHeartbeats1764000000110];
export const MEMBERSHIP_PROJECTIONS = [nodesProjection];
