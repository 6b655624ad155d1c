export * from './error-shape';
export * from './lens-reply';
export * from './render-lens-error';
export * from './lens-exception.filter';
export * from './multipart-fields';
export * from './session-id';
export * from './body-limits';
export * from './client-errors';
