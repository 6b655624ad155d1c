import { readXml } from './xml-read';
import { toJson, toJsonList, toXml, toXmlList, XML_DECLARATION, type WireObject } from './wire-tree';

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"';

describe('wire-tree: numbers kept as text', () => {
  const root: WireObject = { fields: [{ name: 'progress', value: { numberText: '1.0' } }] };

  it('writes the text as is in XML and as a bare number in JSON', () => {
    expect(toXml('s', root)).toBe(`${XML_DECLARATION}<s><progress>1.0</progress></s>`);
    expect(toJson('s', root)).toBe('{"s":{"progress":1.0}}');
  });

  it('keeps a long past 2^53 exact in JSON', () => {
    const body = toJson('s', { fields: [{ name: 'n', value: { numberText: '9223372036854775807' } }] });
    expect(body).toBe('{"s":{"n":9223372036854775807}}');
  });

  it('quotes text that is not a JSON number, so the document stays valid', () => {
    for (const text of ['NaN', 'INF', '-INF', '.5', '01', '1.', '+1', '1e']) {
      const body = toJson('s', { fields: [{ name: 'n', value: { numberText: text } }] });
      expect(JSON.parse(body)).toEqual({ s: { n: text } });
    }
  });

  it('writes a plain number that is not finite as null in JSON, as JSON.stringify does', () => {
    expect(toJson('s', { fields: [{ name: 'n', value: NaN }] })).toBe('{"s":{"n":null}}');
  });
});

describe('wire-tree: typed values in an Object slot', () => {
  const root: WireObject = {
    fields: [
      {
        name: 'values',
        wrapper: 'values',
        items: [
          { xsdType: 'int', value: { numberText: '7' } },
          { xsdType: 'string', value: 'a<b' },
          { xsdType: 'boolean', value: false },
          null,
        ],
      },
    ],
  };

  it('declares xs and xsi on each typed element, and writes null as xsi:nil', () => {
    expect(toXml('row', root)).toBe(
      `${XML_DECLARATION}<row><values>` +
        `<values xsi:type="xs:int" ${XS} ${XSI}>7</values>` +
        `<values xsi:type="xs:string" ${XS} ${XSI}>a&lt;b</values>` +
        `<values xsi:type="xs:boolean" ${XS} ${XSI}>false</values>` +
        `<values xsi:nil="true" ${XSI}/>` +
        `</values></row>`,
    );
  });

  it('writes MOXy\'s {type, value} objects in JSON, numbers and booleans bare, null as null', () => {
    expect(toJson('row', root)).toBe(
      '{"row":{"values":[{"type":"int","value":7},{"type":"string","value":"a<b"},{"type":"boolean","value":false},null]}}',
    );
  });

  it('is well formed XML', () => {
    expect(readXml(toXml('row', root)).ok).toBe(true);
  });

  it('keeps a list of only nulls, which is not empty', () => {
    const onlyNull: WireObject = { fields: [{ name: 'v', items: [null] }] };
    expect(toJson('r', onlyNull)).toBe('{"r":{"v":[null]}}');
    expect(toXml('r', onlyNull)).toBe(`${XML_DECLARATION}<r><v xsi:nil="true" ${XSI}/></r>`);
  });
});

describe('wire-tree: xsi declared once per subtree', () => {
  const nested: WireObject = {
    fields: [
      {
        name: 'data',
        value: {
          xsiType: 'outer',
          fields: [
            { name: 'inner', value: { xsiType: 'innerType', fields: [{ name: 'v', items: [{ xsdType: 'int', value: 1 }, null] }] } },
          ],
        },
      },
    ],
  };

  it('does not declare xsi again under an element that declared it; xs still per typed value', () => {
    expect(toXml('r', nested)).toBe(
      `${XML_DECLARATION}<r><data xsi:type="outer" ${XSI}><inner xsi:type="innerType">` +
        `<v xsi:type="xs:int" ${XS}>1</v><v xsi:nil="true"/></inner></data></r>`,
    );
    expect(readXml(toXml('r', nested)).ok).toBe(true);
  });

  it('declares xsi again on siblings, whose scopes are separate', () => {
    const siblings: WireObject = {
      fields: [
        { name: 'a', value: { xsiType: 't', fields: [] } },
        { name: 'b', value: { xsiType: 't', fields: [] } },
      ],
    };
    expect(toXml('r', siblings)).toBe(`${XML_DECLARATION}<r><a xsi:type="t" ${XSI}/><b xsi:type="t" ${XSI}/></r>`);
  });

  it('gives nested subtypes their own type key in JSON', () => {
    expect(JSON.parse(toJson('r', nested))).toEqual({ r: { data: { type: 'outer', inner: { type: 'innerType', v: [{ type: 'int', value: 1 }, null] } } } });
  });
});

describe('wire-tree: JSON text', () => {
  it('matches JSON.stringify for plain trees, escapes included', () => {
    const root: WireObject = {
      fields: [
        { name: 'text', value: 'quote " backslash \\ newline \n tab \t bell \u0007 lone \uD800' },
        { name: 'n', value: -1.5 },
        { name: 'yes', value: true },
        { name: 'list', items: ['a', 'b'] },
        { name: 'empty', items: [] },
        { name: 'missing', value: undefined },
      ],
    };
    expect(toJson('r', root)).toBe(
      JSON.stringify({ r: { text: 'quote " backslash \\ newline \n tab \t bell \u0007 lone \uD800', n: -1.5, yes: true, list: ['a', 'b'] } }),
    );
  });

  it('lets a later field of the same name win, in the first one\'s place', () => {
    const root: WireObject = {
      fields: [
        { name: 'a', value: 1 },
        { name: 'b', value: 2 },
        { name: 'a', value: 3 },
      ],
    };
    expect(toJson('r', root)).toBe('{"r":{"a":3,"b":2}}');
  });

  it('writes lists as bare arrays of wrapped items', () => {
    expect(toJsonList('q', [{ fields: [{ name: 'x', value: 1 }] }])).toBe('[{"q":{"x":1}}]');
    expect(toJsonList('q', [])).toBe('[]');
    expect(toXmlList('qs', 'q', [{ fields: [] }])).toBe(`${XML_DECLARATION}<qs><q/></qs>`);
  });
});
