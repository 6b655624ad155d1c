import { randomUUID } from 'node:crypto';
import { JarAdded, NodeDown, SessionOpened } from '../index';
import { parseEvent } from './registry';

const sha = 'a'.repeat(64);

function envelope(type: string, payload: unknown, overrides: Record<string, unknown> = {}) {
  return {
    eventId: randomUUID(),
    streamId: `session-${randomUUID()}`,
    streamVersion: 1,
    type,
    schemaVersion: 1,
    payload,
    nodeId: 'L1',
    nodeIncarnation: randomUUID(),
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

describe('event contracts', () => {
  const opened = { publicId: randomUUID(), secretIdSha256: sha, userName: 'ana', database: 'default', params: { a: 'b' } };

  it('parses a valid envelope into its typed event', () => {
    const event = parseEvent(envelope('SessionOpened', opened));
    expect(event.type).toBe('SessionOpened');
    if (event.type !== 'SessionOpened') throw new Error('narrowing failed');
    expect(event.payload.userName).toBe('ana');
  });

  it('refuses an unknown event type', () => {
    expect(() => parseEvent(envelope('SessionExploded', {}))).toThrow('unknown event type "SessionExploded"');
  });

  it('refuses a payload that does not fit the schema', () => {
    expect(() => parseEvent(envelope('JarAdded', { publicId: randomUUID(), resourceType: 'jar', path: '' }))).toThrow();
  });

  it('refuses a schema version it does not know', () => {
    expect(() => parseEvent(envelope('SessionOpened', opened, { schemaVersion: 2 }))).toThrow('schema version 2 is not 1');
  });

  it('refuses a frame without node identity or with a bad version', () => {
    expect(() => parseEvent(envelope('SessionOpened', opened, { nodeId: '' }))).toThrow();
    expect(() => parseEvent(envelope('SessionOpened', opened, { streamVersion: 0 }))).toThrow();
  });

  it('validates payloads when an event is created, so nothing malformed reaches the store', () => {
    expect(() => JarAdded.create({ publicId: randomUUID(), resourceType: 'exe' as 'jar', path: '/x', sha256: sha, sizeBytes: 1 })).toThrow();
    expect(NodeDown.create({ nodeId: 'L2', incarnation: randomUUID(), detectedBy: 'L1', lastHeartbeatAt: new Date().toISOString() }).type).toBe('NodeDown');
    expect(SessionOpened.family).toBe('session');
  });
});
