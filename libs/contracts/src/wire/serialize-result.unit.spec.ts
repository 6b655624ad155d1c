import type { QueryStatus } from './query-types';
import { PAGE_PIECE_CHARS, STRING_COLUMN, type CellColumn } from './result-page-text';
import type { InMemoryQueryResult, QueryResultSetMetadata, ResultValue } from './result-types';
import { serialize, serializeDriverRows, type WireRoot } from './serialize';
import { inMemoryResultWire } from './serialize-result';
import { toJson, toXml } from './wire-tree';
import { readXml } from './xml-read';

const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"';
const qh = '0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';

const xml = (root: WireRoot) => serialize(root, 'application/xml');
const json = (root: WireRoot) => JSON.parse(serialize(root, 'application/json'));

const metadata: QueryResultSetMetadata = {
  columns: [
    { name: 'id', type: 'BIGINT' },
    { name: 'city', type: 'STRING' },
  ],
};

describe('serialize: QueryResultSetMetadata (GET .../resultsetmetadata)', () => {
  it('writes columns under a columns wrapper, each a columns element', () => {
    expect(xml({ kind: 'queryResultSetMetadata', value: metadata })).toBe(
      `${DECL}<queryResultSetMetadata><columns>` +
        '<columns><name>id</name><type>BIGINT</type></columns>' +
        '<columns><name>city</name><type>STRING</type></columns>' +
        '</columns></queryResultSetMetadata>',
    );
  });

  it('gives JSON one columns array, which lens-ui reads as queryResultSetMetadata.columns', () => {
    const body = json({ kind: 'queryResultSetMetadata', value: metadata });
    expect(body).toEqual({ queryResultSetMetadata: { columns: [{ name: 'id', type: 'BIGINT' }, { name: 'city', type: 'STRING' }] } });
    // The Python client reads header.columns[i].type to convert persisted CSV cells.
    expect(body.queryResultSetMetadata.columns[1].type).toBe('STRING');
  });
});

const result: InMemoryQueryResult = {
  rows: [
    {
      values: [
        { type: 'long', value: 9007199254740993n },
        { type: 'string', value: 'Lisboa' },
        { type: 'double', value: 3 },
        { type: 'boolean', value: true },
      ],
    },
    {
      values: [
        { type: 'long', value: 2 },
        null,
        { type: 'double', value: 0.5 },
        { type: 'boolean', value: false },
      ],
    },
  ],
};

describe('serialize: InMemoryQueryResult (GET .../resultset)', () => {
  it('types each cell with xsi:type and declares xs and xsi on it, as JAXB wrote a List<Object>', () => {
    expect(xml({ kind: 'inMemoryQueryResult', value: result })).toBe(
      `${DECL}<inMemoryQueryResult><rows>` +
        '<rows><values>' +
        `<values xsi:type="xs:long" ${XS} ${XSI}>9007199254740993</values>` +
        `<values xsi:type="xs:string" ${XS} ${XSI}>Lisboa</values>` +
        `<values xsi:type="xs:double" ${XS} ${XSI}>3.0</values>` +
        `<values xsi:type="xs:boolean" ${XS} ${XSI}>true</values>` +
        '</values></rows>' +
        '<rows><values>' +
        `<values xsi:type="xs:long" ${XS} ${XSI}>2</values>` +
        `<values xsi:nil="true" ${XSI}/>` +
        `<values xsi:type="xs:double" ${XS} ${XSI}>0.5</values>` +
        `<values xsi:type="xs:boolean" ${XS} ${XSI}>false</values>` +
        '</values></rows>' +
        '</rows></inMemoryQueryResult>',
    );
  });

  it('writes MOXy\'s {type, value} cells in JSON, numbers bare and exact, NULL as null', () => {
    const text = serialize({ kind: 'inMemoryQueryResult', value: result }, 'application/json');
    expect(text).toBe(
      '{"inMemoryQueryResult":{"rows":[' +
        '{"values":[{"type":"long","value":9007199254740993},{"type":"string","value":"Lisboa"},{"type":"double","value":3.0},{"type":"boolean","value":true}]},' +
        '{"values":[{"type":"long","value":2},null,{"type":"double","value":0.5},{"type":"boolean","value":false}]}' +
        ']}}',
    );
  });

  it('reads as lens-ui and the Python client read it: rows[i].values[j].value, a null cell as null', () => {
    const rows = json({ kind: 'inMemoryQueryResult', value: result }).inMemoryQueryResult.rows;
    // lens-ui: row.values.map(cell => cell && cell.value); Python: value.value if value else None
    // (JavaScript's JSON.parse rounds the long past 2^53; Python's json and Java keep it exact.)
    expect(rows.map((row: { values: ({ value: unknown } | null)[] }) => row.values.map((cell) => cell && cell.value))).toEqual([
      [9007199254740992, 'Lisboa', 3, true],
      [2, null, 0.5, false],
    ]);
  });

  it('writes every cell type under its XML Schema name', () => {
    const all: InMemoryQueryResult = {
      rows: [
        {
          values: [
            { type: 'byte', value: -8 },
            { type: 'short', value: 300 },
            { type: 'int', value: 70000 },
            { type: 'integer', value: 123456789012345678901234567890n },
            { type: 'float', value: 0.1 },
            { type: 'double', value: 1e10 },
            { type: 'decimal', value: '12.50' },
            { type: 'string', value: '' },
          ],
        },
      ],
    };
    const body = xml({ kind: 'inMemoryQueryResult', value: all });
    for (const [type, text] of [
      ['byte', '-8'],
      ['short', '300'],
      ['int', '70000'],
      ['integer', '123456789012345678901234567890'],
      ['float', '0.1'],
      ['double', '1.0E10'],
      ['decimal', '12.50'],
      ['string', ''],
    ]) {
      expect(body).toContain(`<values xsi:type="xs:${type}" ${XS} ${XSI}>${text}</values>`);
    }
    expect(serialize({ kind: 'inMemoryQueryResult', value: all }, 'application/json')).toBe(
      '{"inMemoryQueryResult":{"rows":[{"values":[' +
        '{"type":"byte","value":-8},{"type":"short","value":300},{"type":"int","value":70000},' +
        '{"type":"integer","value":123456789012345678901234567890},{"type":"float","value":0.1},' +
        '{"type":"double","value":1.0E10},{"type":"decimal","value":12.50},{"type":"string","value":""}' +
        ']}]}}',
    );
  });

  it('writes doubles that are not finite as NaN, INF, -INF: as text in XML, as strings in JSON', () => {
    const odd: InMemoryQueryResult = {
      rows: [{ values: [{ type: 'double', value: NaN }, { type: 'double', value: Infinity }, { type: 'float', value: -Infinity }] }],
    };
    expect(xml({ kind: 'inMemoryQueryResult', value: odd })).toContain(`${XSI}>NaN</values><values xsi:type="xs:double" ${XS} ${XSI}>INF</values>`);
    expect(json({ kind: 'inMemoryQueryResult', value: odd }).inMemoryQueryResult.rows[0].values).toEqual([
      { type: 'double', value: 'NaN' },
      { type: 'double', value: 'INF' },
      { type: 'float', value: '-INF' },
    ]);
  });

  it('escapes string cells and keeps the document well formed', () => {
    const text: InMemoryQueryResult = { rows: [{ values: [{ type: 'string', value: '<a href="x">&</a>' }, null] }] };
    const body = xml({ kind: 'inMemoryQueryResult', value: text });
    expect(body).toContain('>&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;</values>');
    expect(readXml(body).ok).toBe(true);
    expect(json({ kind: 'inMemoryQueryResult', value: text }).inMemoryQueryResult.rows[0].values[0].value).toBe('<a href="x">&</a>');
  });

  it('leaves out empty lists: no rows at all, and a row without cells', () => {
    expect(xml({ kind: 'inMemoryQueryResult', value: { rows: [] } })).toBe(`${DECL}<inMemoryQueryResult/>`);
    expect(json({ kind: 'inMemoryQueryResult', value: { rows: [] } })).toEqual({ inMemoryQueryResult: {} });
    expect(json({ kind: 'inMemoryQueryResult', value: { rows: [{ values: [] }] } })).toEqual({ inMemoryQueryResult: { rows: [{}] } });
  });

  it('writes a page directly as the same bytes as the element tree does, in JSON and in XML', () => {
    const cells: InMemoryQueryResult['rows'][number]['values'] = [
      null,
      { type: 'string', value: '' },
      { type: 'string', value: 'tab\tline\nquote" <&> \u0001 \uD800 é 😀' },
      { type: 'boolean', value: true },
      { type: 'boolean', value: false },
      { type: 'byte', value: -8 },
      { type: 'short', value: 0 },
      { type: 'int', value: -0 },
      { type: 'long', value: 9007199254740993n },
      { type: 'long', value: 1e21 },
      { type: 'integer', value: -123456789012345678901234567890n },
      { type: 'float', value: 0.1 },
      { type: 'float', value: NaN },
      { type: 'double', value: 1e10 },
      { type: 'double', value: -Infinity },
      { type: 'double', value: 5e-324 },
      { type: 'decimal', value: '12.50' },
      { type: 'decimal', value: 'NaN' },
      { type: 'decimal', value: '1<2' },
    ];
    const pages: InMemoryQueryResult[] = [
      { rows: [] },
      { rows: [{ values: [] }] },
      { rows: [{ values: cells }, { values: [] }, { values: [null] }, { values: cells.slice().reverse() }] },
    ];
    for (const page of pages) {
      expect(serialize({ kind: 'inMemoryQueryResult', value: page }, 'application/json')).toBe(toJson('inMemoryQueryResult', inMemoryResultWire(page)));
      expect(serialize({ kind: 'inMemoryQueryResult', value: page }, 'application/xml')).toBe(toXml('inMemoryQueryResult', inMemoryResultWire(page)));
    }
  });

  it("writes a driver's rows with their columns' typing as the same bytes as the ResultRows they make", () => {
    // One column per cell type, each turning a driver's value into the cell's value its own way.
    const columns: CellColumn[] = [
      STRING_COLUMN,
      { type: 'boolean', value: (raw) => Boolean(raw) },
      { type: 'byte', value: (raw) => Number(raw) },
      { type: 'short', value: (raw) => Number(raw) },
      { type: 'int', value: (raw) => Number(raw) },
      { type: 'long', value: (raw) => (typeof raw === 'number' ? raw : BigInt(String(raw))) },
      { type: 'integer', value: (raw) => BigInt(String(raw)) },
      { type: 'float', value: (raw) => Number(raw) },
      { type: 'double', value: (raw) => Number(raw) },
      { type: 'decimal', value: (raw) => String(raw) },
    ];
    const rows: unknown[][] = [
      ['tab\tline\nquote" <&> \u0001 \uD800 é 😀', 1, -8, '0', -0, '9007199254740993', '-123456789012345678901234567890', 0.1, 1e10, '12.50', 'past the columns', { a: 1 }],
      [{ a: [1, '<'] }, 0, 127, 3, 2147483647, 1e21, 7, NaN, -Infinity, 'NaN'],
      [null, undefined, null, null, null, null, null, null, 5e-324, '1<2', null],
      [],
      ['', true],
    ];
    // The ResultRows the same rows make: a ResultValue per cell, past the last column a string.
    const resultRows = rows.map((row) => ({
      values: row.map((raw, i) => {
        if (raw === null || raw === undefined) return null;
        const column = columns[i] ?? STRING_COLUMN;
        return { type: column.type, value: column.value(raw) } as ResultValue;
      }),
    }));
    for (const [from, to] of [[0, rows.length], [3, 4], [0, 0]]) {
      const asResultRows: WireRoot = { kind: 'inMemoryQueryResult', value: { rows: resultRows.slice(from, to) } };
      const asDriverRows: WireRoot = { kind: 'driverRows', value: { rows: rows.slice(from, to), columns } };
      for (const mediaType of ['application/json', 'application/xml'] as const) expect(serialize(asDriverRows, mediaType)).toBe(serialize(asResultRows, mediaType));
    }
    // Not only alike: right (Java's double text, a decimal that is no number quoted).
    expect(serialize({ kind: 'driverRows', value: { rows: rows.slice(2, 3), columns } }, 'application/json')).toContain(
      'null,{"type":"double","value":4.9E-324},{"type":"decimal","value":"1<2"},null]',
    );
  });

  it("hands a big page of a driver's rows on in pieces that each end with a row and together are serialize's text", () => {
    const columns: CellColumn[] = [
      { type: 'int', value: (raw) => Number(raw) },
      { type: 'string', value: (raw) => String(raw) },
    ];
    const rows = Array.from({ length: 5_000 }, (_, i) => [i + 1, `row ${i + 1} é`]);
    for (const mediaType of ['application/json', 'application/xml'] as const) {
      const pieces: string[] = [];
      serializeDriverRows({ rows, columns }, mediaType, (piece) => pieces.push(piece));
      expect(pieces.join('')).toBe(serialize({ kind: 'driverRows', value: { rows, columns } }, mediaType));
      expect(pieces.length).toBeGreaterThan(2);
      const rowEnd = mediaType === 'application/json' ? ']}' : '</values></rows>';
      for (const piece of pieces.slice(0, -1)) {
        expect(piece.length).toBeGreaterThanOrEqual(PAGE_PIECE_CHARS);
        expect(piece.endsWith(rowEnd)).toBe(true);
      }
    }
    const empty: string[] = [];
    serializeDriverRows({ rows: [], columns }, 'application/json', (piece) => empty.push(piece));
    expect(empty).toEqual(['{"inMemoryQueryResult":{}}']);
  });

  it('refuses a whole-number cell that is not whole rather than write a wrong value', () => {
    expect(() => xml({ kind: 'inMemoryQueryResult', value: { rows: [{ values: [{ type: 'int', value: 1.5 }] }] } })).toThrow(RangeError);
  });
});

describe('serialize: PersistentQueryResult (GET .../resultset)', () => {
  const persisted = { persistedURI: 'file:/results/q1.csv', numRows: 120, fileSize: 4096, httpResultUrl: 'http://node1/lensapi/queryapi/queries/x/httpresultset' };

  it('writes its four fields in order under persistentQueryResult', () => {
    expect(xml({ kind: 'persistentQueryResult', value: persisted })).toBe(
      `${DECL}<persistentQueryResult><persistedURI>file:/results/q1.csv</persistedURI><numRows>120</numRows>` +
        '<fileSize>4096</fileSize><httpResultUrl>http://node1/lensapi/queryapi/queries/x/httpresultset</httpResultUrl></persistentQueryResult>',
    );
    expect(json({ kind: 'persistentQueryResult', value: persisted })).toEqual({ persistentQueryResult: persisted });
  });

  it('leaves out the optional fields when unknown', () => {
    expect(json({ kind: 'persistentQueryResult', value: { persistedURI: 'file:/r' } })).toEqual({ persistentQueryResult: { persistedURI: 'file:/r' } });
  });
});

describe('serialize: QueryHandleWithResultSet in LensAPIResult.data (EXECUTE_WITH_TIMEOUT)', () => {
  const status: QueryStatus = { progress: 1, status: 'SUCCESSFUL', statusMessage: 'Query is successful!', isResultSetAvailable: true };
  const finished: WireRoot = {
    kind: 'lensAPIResult',
    value: {
      id: 'req-9',
      data: {
        type: 'queryHandleWithResultSet',
        queryHandle: { handleId: qh },
        result: { type: 'inMemoryQueryResult', rows: [{ values: [{ type: 'int', value: 1 }, null] }] },
        resultMetadata: { columns: [{ name: 'n', type: 'INT' }, { name: 'm', type: 'STRING' }] },
        status,
      },
    },
  };

  it('names data and the result by xsi:type, declaring xsi once for the subtree', () => {
    expect(xml(finished)).toBe(
      `${DECL}<lensAPIResult><id>req-9</id><data xsi:type="queryHandleWithResultSet" ${XSI}>` +
        `<queryHandle><handleId>${qh}</handleId></queryHandle>` +
        '<result xsi:type="inMemoryQueryResult"><rows><rows><values>' +
        `<values xsi:type="xs:int" ${XS}>1</values><values xsi:nil="true"/>` +
        '</values></rows></rows></result>' +
        '<resultMetadata><columns><columns><name>n</name><type>INT</type></columns><columns><name>m</name><type>STRING</type></columns></columns></resultMetadata>' +
        '<status><progress>1.0</progress><status>SUCCESSFUL</status><statusMessage>Query is successful!</statusMessage>' +
        '<isResultSetAvailable>true</isResultSetAvailable></status></data></lensAPIResult>',
    );
    expect(readXml(xml(finished)).ok).toBe(true);
  });

  it('types data and result by a type key in JSON', () => {
    expect(json(finished)).toEqual({
      lensAPIResult: {
        id: 'req-9',
        data: {
          type: 'queryHandleWithResultSet',
          queryHandle: { handleId: qh },
          result: { type: 'inMemoryQueryResult', rows: [{ values: [{ type: 'int', value: 1 }, null] }] },
          resultMetadata: { columns: [{ name: 'n', type: 'INT' }, { name: 'm', type: 'STRING' }] },
          status: { progress: 1, status: 'SUCCESSFUL', statusMessage: 'Query is successful!', isResultSetAvailable: true },
        },
      },
    });
  });

  it('has more than two keys in data, so the Python client hands it back whole', () => {
    const data = json(finished).lensAPIResult.data;
    expect(Object.keys(data).length).toBeGreaterThan(2);
    expect(data.queryHandle.handleId).toBe(qh);
  });

  it('writes a persisted result by its own type name', () => {
    const persisted: WireRoot = {
      kind: 'lensAPIResult',
      value: {
        id: 'r',
        data: { type: 'queryHandleWithResultSet', queryHandle: { handleId: qh }, result: { type: 'persistentQueryResult', persistedURI: 'file:/r', numRows: 3 }, status },
      },
    };
    expect(xml(persisted)).toContain('<result xsi:type="persistentQueryResult"><persistedURI>file:/r</persistedURI><numRows>3</numRows></result>');
    expect(json(persisted).lensAPIResult.data.result).toEqual({ type: 'persistentQueryResult', persistedURI: 'file:/r', numRows: 3 });
  });

  it('carries only the handle and status when the query did not finish in time', () => {
    const pending: WireRoot = {
      kind: 'lensAPIResult',
      value: { id: 'r', data: { type: 'queryHandleWithResultSet', queryHandle: { handleId: qh }, status: { progress: 0.5, status: 'RUNNING', isResultSetAvailable: false } } },
    };
    expect(xml(pending)).toBe(
      `${DECL}<lensAPIResult><id>r</id><data xsi:type="queryHandleWithResultSet" ${XSI}><queryHandle><handleId>${qh}</handleId></queryHandle>` +
        '<status><progress>0.5</progress><status>RUNNING</status><isResultSetAvailable>false</isResultSetAvailable></status></data></lensAPIResult>',
    );
    expect(json(pending).lensAPIResult.data).toEqual({
      type: 'queryHandleWithResultSet',
      queryHandle: { handleId: qh },
      status: { progress: 0.5, status: 'RUNNING', isResultSetAvailable: false },
    });
  });
});
