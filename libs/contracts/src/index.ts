export * from './streams';
export * from './envelope';
export * from './events/define-event';
export * from './events/session.events';
export * from './events/query.events';
export * from './events/node.events';
export * from './events/registry';
