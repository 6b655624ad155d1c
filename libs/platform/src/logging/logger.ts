import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { NodeIdentity } from '../identity/node-identity';

/** JSON lines on stdout, each carrying the node id and incarnation that wrote it. */
export function createLogger(identity: NodeIdentity, level: string): Logger {
  return pino({
    level,
    base: { node: identity.nodeId, incarnation: identity.incarnation },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', '*.password', 'secretId', '*.secretId'], censor: '[redacted]' },
  });
}

/** Lets NestJS's own messages go through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
