import { createHash } from 'node:crypto';

/**
 * A statement the node sends often, named so that each connection parses it once and the server
 * plans it from its prepared form instead of parsing and planning the text on every call: the
 * append's statement cost PostgreSQL as much to plan as to run (ADR 11). The name is derived from
 * the text, so any two equal texts share one prepared statement per connection and two different
 * texts can never meet under one name. Texts are a bounded set of shapes (append kinds, inline
 * writes); past `MAX_NAMED` distinct texts the rest go unnamed rather than grow every connection.
 */
const names = new Map<string, string>();
const MAX_NAMED = 500;

export function namedStatement(text: string): { name?: string; text: string } {
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_NAMED) return { text };
    name = `quarry-${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return { name, text };
}
