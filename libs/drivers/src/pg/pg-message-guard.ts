import type { Duplex } from 'node:stream';
import { ResultLimitExceeded, type ResultLimits } from '../result-limits';

/** Every backend message: a type byte, then an int32 length that counts itself and the body. */
const HEADER = 5;
const DATA_ROW = 0x44; // 'D': a row of a cursor's FETCH
const COPY_DATA = 0x64; // 'd': a row of COPY ... TO STDOUT (CSV)

/** Reads the fields of one message's body, fed in pieces; says when one is longer than the value limit. */
interface FieldReader {
  /** Whether a field's length is known whole (DataRow) or counted only as far as the limit (CSV). */
  readonly exact: boolean;
  feed(chunk: Buffer, from: number, count: number): number | undefined;
}

/**
 * Reads the frames of the PostgreSQL wire protocol as they arrive, before pg-protocol buffers them:
 * a message longer than the row limit, or a row with a value longer than the value limit, is
 * refused from its header (and, for a row longer than the value limit, its fields), so the node
 * never gathers it. pg-protocol would gather any size and then throw inside the socket's data
 * handler, out of reach of every caller: the node exited. Every message costs a header read; only a
 * row longer than the value limit has its fields read.
 */
export class PgMessageGuard {
  /** A header cut by a chunk boundary, gathered across chunks. */
  private readonly header = Buffer.alloc(HEADER);
  private headerHave = 0;
  /** Bytes of the current message's body still to come. */
  private bodyLeft = 0;
  private fields?: FieldReader;

  constructor(
    private readonly driver: string,
    private readonly limits: ResultLimits,
  ) {}

  /** Undefined while every message is within the limits; else the limit the stream broke. */
  check(chunk: Buffer): ResultLimitExceeded | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        const tooLong = this.fields?.feed(chunk, at, take);
        if (tooLong !== undefined) return this.exceeded('value', tooLong);
        at += take;
        this.bodyLeft -= take;
        continue;
      }
      let type: number;
      let length: number;
      if (this.headerHave === 0 && at + HEADER <= chunk.length) {
        type = chunk[at];
        length = chunk.readUInt32BE(at + 1);
        at += HEADER;
      } else {
        const take = Math.min(HEADER - this.headerHave, chunk.length - at);
        chunk.copy(this.header, this.headerHave, at, at + take);
        this.headerHave += take;
        at += take;
        if (this.headerHave < HEADER) break;
        this.headerHave = 0;
        type = this.header[0];
        length = this.header.readUInt32BE(1);
      }
      this.bodyLeft = length - 4;
      this.fields = this.bodyLeft > this.limits.maxValueBytes ? this.fieldReader(type) : undefined;
      if (length + 1 > this.limits.maxRowBytes) {
        // One huge value is the likelier cause, and its length is usually in this very chunk.
        const tooLong = this.fields?.feed(chunk, at, Math.min(this.bodyLeft, chunk.length - at));
        return tooLong !== undefined ? this.exceeded('value', tooLong) : this.exceeded('row', length + 1);
      }
    }
    return undefined;
  }

  private fieldReader(type: number): FieldReader | undefined {
    if (type === DATA_ROW) return new DataRowFields(this.limits.maxValueBytes);
    if (type === COPY_DATA) return new CsvRowFields(this.limits.maxValueBytes);
    return undefined;
  }

  private exceeded(limit: 'value' | 'row', bytes: number): ResultLimitExceeded {
    return ResultLimitExceeded.of(this.driver, this.limits, limit, bytes, limit === 'row' || this.fields?.exact !== false);
  }
}

/** A DataRow's body: int16 field count, then per field an int32 length (-1: null) and its bytes. */
class DataRowFields implements FieldReader {
  readonly exact = true;
  private readonly int = Buffer.alloc(4);
  private intHave = 0;
  /** 2 while reading the count, 4 while reading a field length, 0 while passing a field's bytes. */
  private reading = 2;
  private skip = 0;

  constructor(private readonly maxValueBytes: number) {}

  feed(chunk: Buffer, from: number, count: number): number | undefined {
    let at = from;
    const end = from + count;
    while (at < end) {
      if (this.reading === 0) {
        const take = Math.min(this.skip, end - at);
        at += take;
        this.skip -= take;
        if (this.skip === 0) this.reading = 4;
        continue;
      }
      this.int[this.intHave++] = chunk[at++];
      if (this.intHave < this.reading) continue;
      const isLength = this.reading === 4;
      const value = isLength ? this.int.readInt32BE(0) : this.int.readInt16BE(0);
      this.intHave = 0;
      this.reading = 4;
      if (!isLength || value <= 0) continue;
      if (value > this.maxValueBytes) return value;
      this.reading = 0;
      this.skip = value;
    }
    return undefined;
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

/** A COPY CSV row: fields cut at commas outside quotes; a value's bytes without its quotes, a doubled quote once. */
class CsvRowFields implements FieldReader {
  readonly exact = false;
  private size = 0;
  private quoted = false;
  /** A quote inside quotes was the last byte: a doubled quote or the closing one. */
  private quoteSeen = false;

  constructor(private readonly maxValueBytes: number) {}

  feed(chunk: Buffer, from: number, count: number): number | undefined {
    for (let at = from, end = from + count; at < end; at++) {
      const byte = chunk[at];
      if (this.quoteSeen) {
        this.quoteSeen = false;
        if (byte === QUOTE) {
          this.size++;
          continue;
        }
        this.quoted = false;
      }
      if (this.quoted) {
        if (byte === QUOTE) this.quoteSeen = true;
        else this.size++;
      } else if (byte === QUOTE) {
        this.quoted = true;
      } else if (byte === COMMA || byte === LF) {
        this.size = 0;
      } else {
        this.size++;
      }
      if (this.size > this.maxValueBytes) return this.size;
    }
    return undefined;
  }
}

/**
 * Puts the guard in front of everything the connection receives (`push` takes every chunk, in
 * flowing mode for pg-protocol and in paused mode for pg-copy-streams alike): a chunk that breaks
 * a limit never reaches a reader; the connection is destroyed with the limit's error instead, which
 * fails the running statement (and the connection is not used again).
 */
export function guardMessages<S extends Duplex>(stream: S, guard: PgMessageGuard): S {
  const push = stream.push.bind(stream);
  stream.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (Buffer.isBuffer(chunk) && !stream.destroyed) {
      const refused = guard.check(chunk);
      if (refused) {
        stream.destroy(refused);
        return false;
      }
    }
    return push(chunk, encoding);
  };
  return stream;
}
