import { randomUUID } from 'node:crypto';
import { JarAdded, SessionOpened, streamId } from '@quarry/contracts';
import type { NewEvent } from '@quarry/contracts';

const sha = 'c'.repeat(64);

/** The part of the event store this helper needs (kept structural: testing depends on no store). */
export interface Appender {
  append(stream: string, expectedVersion: 'no_stream', events: NewEvent[]): Promise<unknown>;
}

/** Appends `streams` sessions of `eventsPerStream` events each (SessionOpened, then JarAdded). */
export async function appendSessions(store: Appender, streams: number, eventsPerStream: number): Promise<string[]> {
  const ids: string[] = [];
  for (let s = 0; s < streams; s++) {
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    ids.push(stream);
    const events: NewEvent[] = [SessionOpened.create({ publicId, secretIdSha256: sha, userName: `user${s % 7}`, database: 'default', params: {} })];
    for (let i = 1; i < eventsPerStream; i++) {
      events.push(JarAdded.create({ publicId, resourceType: 'jar', path: `/jars/${i}.jar`, sha256: sha, sizeBytes: i }));
    }
    await store.append(stream, 'no_stream', events);
  }
  return ids;
}
