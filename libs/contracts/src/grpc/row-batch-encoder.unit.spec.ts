import { fetchResultCodec } from './fetch-result-codec';
import { encodeRowBatch } from './row-batch-encoder';
import { rowBatchOf } from './row-batch';

const { responseSerialize, responseDeserialize } = fetchResultCodec();

const COLUMNS = [
  { name: 'id', type: 'INT' },
  { name: 'big', type: 'BIGINT' },
  { name: 'label', type: 'STRING' },
  { name: 'ratio', type: 'DOUBLE' },
  { name: 'flag', type: 'BOOLEAN' },
  { name: 'amount', type: 'DECIMAL' },
];
const ROWS: unknown[][] = [
  [0, '9223372036854775807', 'plain', 1.5, true, '12.50'],
  [-1, '-9223372036854775808', 'ünïcødé ✓ 𝄞', -0.25, false, null],
  [2147483648, 9007199254740991, '', Number.NaN, null, '-0.000000000000000001'],
  [null, -4503599627370497, 'a,"b"\nc', Number.POSITIVE_INFINITY, true, '1'],
];

describe('RowBatch written by hand', () => {
  it('decodes with proto-loader to what protobufjs itself would have written, nulls, BIGINTs and unicode included', () => {
    for (const [from, withColumns] of [
      [0, true],
      [12_345_678_901, false],
    ] as const) {
      const batch = rowBatchOf(ROWS, COLUMNS, from, withColumns);
      const ours = responseDeserialize(encodeRowBatch(batch));
      expect(ours).toEqual(responseDeserialize(responseSerialize(batch)));
      expect((ours as { values: { ints: string[] }[] }).values[1].ints).toEqual(['9223372036854775807', '-9223372036854775808', '9007199254740991', '-4503599627370497']);
    }
  });

  it('an empty batch with its columns, and one far bigger than its first buffer', () => {
    const empty = rowBatchOf([], COLUMNS, 0, true);
    expect(responseDeserialize(encodeRowBatch(empty))).toEqual(responseDeserialize(responseSerialize(empty)));
    const rows = Array.from({ length: 20_000 }, (_, i) => [i, String(i * 3), `row ${i}`, i / 7, i % 3 === 0, i % 5 === 0 ? null : `${i}.5`]);
    const big = rowBatchOf(rows, COLUMNS, 40_000, false);
    expect(responseDeserialize(encodeRowBatch(big))).toEqual(responseDeserialize(responseSerialize(big)));
  });
});
