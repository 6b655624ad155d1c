import { PgMessageGuard } from './pg-message-guard';

const limits = { maxValueBytes: 100, maxRowBytes: 300 };

/** A backend message: type byte, int32 length (itself included), body. */
const message = (type: string, body: Buffer) => {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};
const dataRow = (...fields: (string | null)[]) => {
  const parts = [Buffer.from([0, fields.length])];
  for (const field of fields) {
    const length = Buffer.alloc(4);
    length.writeInt32BE(field === null ? -1 : Buffer.byteLength(field));
    parts.push(length, Buffer.from(field ?? ''));
  }
  return message('D', Buffer.concat(parts));
};
const copyData = (csvRow: string) => message('d', Buffer.from(csvRow));

/** Feeds the bytes in chunks of `size` (boundaries anywhere, headers cut too); the first refusal. */
function feed(bytes: Buffer, size: number) {
  const guard = new PgMessageGuard('pg', limits);
  for (let at = 0; at < bytes.length; at += size) {
    const refused = guard.check(bytes.subarray(at, at + size));
    if (refused) return refused.message;
  }
  return undefined;
}

describe('PgMessageGuard', () => {
  const sizes = [1, 2, 3, 5, 7, 64, 10_000];

  it('passes rows and values within the limits, however the chunks cut them', () => {
    const stream = Buffer.concat([
      message('T', Buffer.alloc(40)),
      dataRow('a'.repeat(100), null, '', 'b'.repeat(90)),
      dataRow('x'.repeat(100), 'y'.repeat(100)),
      copyData(`"${'""'.repeat(60)}",${'z'.repeat(100)}\n`),
      message('C', Buffer.from('SELECT 2\0')),
    ]);
    for (const size of sizes) expect([size, feed(stream, size)]).toEqual([size, undefined]);
  });

  it('refuses a value over the value limit from its length, in a row under the row limit', () => {
    const stream = Buffer.concat([dataRow('ok'), dataRow('a'.repeat(50), null, 'b'.repeat(101))]);
    for (const size of sizes) expect([size, feed(stream, size)]).toEqual([size, expect.stringContaining('a value of 101 bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES (100 bytes)')]);
  });

  it('refuses a message over the row limit from its header; names the value when its length is already there', () => {
    const wide = dataRow('a'.repeat(99), 'b'.repeat(99), 'c'.repeat(99), 'd'.repeat(99));
    for (const size of sizes) expect(feed(wide, size)).toMatch(/^a row of 419 bytes is larger than QUARRY_RESULT_MAX_ROW_BYTES \(300 bytes\)/);
    expect(feed(dataRow('v'.repeat(1000)), 10_000)).toMatch(/^a value of 1000 bytes/);
    expect(feed(message('N', Buffer.alloc(400)), 64)).toMatch(/^a row of 405 bytes/);
  });

  it("counts a CSV value without its quotes, and a doubled quote once; names it as 'at least'", () => {
    for (const size of sizes) {
      expect(feed(copyData(`1,"${'""'.repeat(100)}",2\n`), size)).toBeUndefined();
      expect(feed(copyData(`1,"${'""'.repeat(101)}"\n`), size)).toMatch(/^a value of at least 101 bytes/);
      expect(feed(copyData(`${'q'.repeat(101)},2\n`), size)).toMatch(/^a value of at least 101 bytes/);
    }
  });
});
