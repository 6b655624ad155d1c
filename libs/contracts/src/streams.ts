/**
 * Stream families: every stream id is `<family>-<id>`, and each family has one Kafka topic.
 * Keeping the family in the id lets the relay route an event without looking it up.
 */
export const STREAM_FAMILIES = ['session', 'query', 'node'] as const;
export type StreamFamily = (typeof STREAM_FAMILIES)[number];

export function streamId(family: StreamFamily, id: string): string {
  if (!id) throw new Error(`a ${family} stream needs an id`);
  return `${family}-${id}`;
}

export function familyOf(stream: string): StreamFamily {
  const family = stream.slice(0, stream.indexOf('-'));
  if (!(STREAM_FAMILIES as readonly string[]).includes(family)) {
    throw new Error(`stream id "${stream}" does not start with a known family (${STREAM_FAMILIES.join(', ')})`);
  }
  return family as StreamFamily;
}

/** `quarry.session.events` with the default prefix; tests use their own prefix to stay apart. */
export function topicFor(family: StreamFamily, prefix = 'quarry'): string {
  return `${prefix}.${family}.events`;
}
