export * from './config/env';
export * from './config/quarry-config';
export * from './identity/node-identity';
export * from './logging/logger';
export * from './metrics/metrics';
export * from './di/tokens';
export * from './lens-http';
export * from './db/database-unavailable';
