import { DeferredStatements, literalOf } from './deferred-statements';

describe('DeferredStatements', () => {
  const INSERT = 'INSERT INTO t (a, b, c) VALUES ($1, $2, $3)';

  it('writes each statement as an EXECUTE with literals, prepared once per connection once taken', async () => {
    const connection = {};
    const first = new DeferredStatements(connection);
    await expect(first.query(INSERT, ["it's", 3, true])).resolves.toEqual({ rows: [], rowCount: null });
    await first.query({ text: INSERT, values: [null, -1.5, 'x'] });
    const [prepare, ...executes] = first.take();
    expect(prepare).toMatch(/^PREPARE quarry_deferred_[0-9a-f]{20} AS INSERT INTO t \(a, b, c\) VALUES \(\$1, \$2, \$3\)$/);
    const name = prepare.split(' ')[1];
    expect(executes).toEqual([`EXECUTE ${name}('it''s', '3', 'true')`, `EXECUTE ${name}(NULL, '-1.5', 'x')`]);

    // The same connection has it now; another connection does not.
    const again = new DeferredStatements(connection);
    await again.query(INSERT, ['a', 1, false]);
    expect(again.take()).toEqual([`EXECUTE ${name}('a', '1', 'false')`]);
    const elsewhere = new DeferredStatements({});
    await elsewhere.query(INSERT, ['a', 1, false]);
    expect(elsewhere.take()).toHaveLength(2);
  });

  it('marks nothing on the connection for statements never taken (never sent)', async () => {
    const connection = {};
    await new DeferredStatements(connection).query(INSERT, ['a', 1, true]);
    const next = new DeferredStatements(connection);
    await next.query(INSERT, ['b', 2, true]);
    expect(next.take()[0]).toMatch(/^PREPARE /);
  });

  it('writes text, numbers and booleans the way the driver sends them, and refuses anything else', () => {
    expect(literalOf('a\\b')).toBe(" E'a\\\\b'");
    expect(literalOf(12n)).toBe("'12'");
    expect(literalOf(undefined)).toBe('NULL');
    expect(() => literalOf(Number.NaN)).toThrow('not a finite number');
    expect(() => literalOf(new Date(0))).toThrow('text, numbers and booleans only');
    expect(() => literalOf({ a: 1 })).toThrow('text, numbers and booleans only');
  });
});
