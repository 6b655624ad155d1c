import { Module } from '@nestjs/common';
import { ClusterNodesController } from './http/cluster-nodes.controller';
import { MembershipService } from './lifecycle/membership.service';

/** Runs in every node, whatever its targets. */
@Module({ controllers: [ClusterNodesController], providers: [MembershipService] })
export class MembershipModule {}
