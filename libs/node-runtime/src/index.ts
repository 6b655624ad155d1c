export * from './bootstrap/run-node';
export * from './bootstrap/main-for';
export * from './bootstrap/target-argument';
export * from './services/service-catalog';
export * from './bootstrap/rebuild-command';
