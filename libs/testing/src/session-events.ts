import { randomUUID } from 'node:crypto';
import { JarAdded, SessionOpened, streamId } from '@quarry/contracts';
import type { PgEventStore } from '@quarry/eventstore';

const sha = 'c'.repeat(64);

/** Appends `streams` sessions of `eventsPerStream` events each (SessionOpened, then JarAdded). */
export async function appendSessions(store: PgEventStore, streams: number, eventsPerStream: number): Promise<string[]> {
  const ids: string[] = [];
  for (let s = 0; s < streams; s++) {
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    ids.push(stream);
    const events = [SessionOpened.create({ publicId, secretIdSha256: sha, userName: `user${s % 7}`, database: 'default', params: {} })];
    for (let i = 1; i < eventsPerStream; i++) {
      events.push(JarAdded.create({ publicId, resourceType: 'jar', path: `/jars/${i}.jar`, sha256: sha, sizeBytes: i }));
    }
    await store.append(stream, 'no_stream', events);
  }
  return ids;
}
