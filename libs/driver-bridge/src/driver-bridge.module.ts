import { Module } from '@nestjs/common';

/**
 * The driver-bridge service. It executes launched queries on the pg and DuckDB drivers; the drivers land with the queries issue.
 * Running it today puts the service on this node's /health list and in its NodeJoined event.
 */
@Module({})
export class DriverBridgeModule {}
