export * from './cluster-secret';
export * from './cluster-peers-only.guard';
export * from './keep-alive';
export * from './balancer-routing';
