/**
 * A Map that forgets its least recently stored (or, through `use`, used) entry past `capacity`,
 * so a node's memory stays bounded whatever its clients send.
 */
export class BoundedCache<K, V> {
  /** Oldest first: a Map keeps insertion order. */
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be a positive integer, not ${capacity}`);
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** The entry, now the most recently used (the last to be forgotten). */
  use(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) this.set(key, value);
    return value;
  }

  /** The entry, removed. */
  take(key: K): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
