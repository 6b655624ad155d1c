/** Injection tokens for the values every service of a node shares. */
export const QUARRY_CONFIG = Symbol('QUARRY_CONFIG');
export const NODE_IDENTITY = Symbol('NODE_IDENTITY');
export const LOGGER = Symbol('LOGGER');
export const DB_POOL = Symbol('DB_POOL');
export const KAFKA = Symbol('KAFKA');
export const RUNNING_SERVICES = Symbol('RUNNING_SERVICES');
export const DRIVERS = Symbol('DRIVERS');
export const RESULT_STORE = Symbol('RESULT_STORE');
