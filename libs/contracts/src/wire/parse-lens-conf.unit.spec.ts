import { LENS_CONF_LIMITS, parseLensConf } from './parse-lens-conf';

const entry = (k: string, v: string) => `<entry><key>${k}</key><value>${v}</value></entry>`;
const conf = (...entries: string[]) => `<conf><properties>${entries.join('')}</properties></conf>`;

function confOf(raw: string | undefined): Record<string, string> {
  const result = parseLensConf(raw);
  if (!result.ok) throw new Error(`expected a conf, got: ${result.reason}`);
  return result.conf;
}

function reasonOf(raw: string): string {
  const result = parseLensConf(raw);
  if (result.ok) throw new Error(`expected a refusal of ${raw.slice(0, 80)}`);
  return result.reason;
}

describe('parseLensConf: XML', () => {
  it.each([undefined, '', '  \n', '<conf></conf>', '<conf/>', '<conf>\n</conf>', '<conf><properties/></conf>', '<conf><properties></properties></conf>'])(
    'reads %p as an empty conf (the Python client sends <conf></conf>)',
    (raw) => {
      expect(confOf(raw)).toEqual({});
    },
  );

  it('reads what the Python client builds', () => {
    expect(confOf(conf(entry('a', 'b'), entry('lens.query.enable.persistent.resultset', 'false')))).toEqual({
      a: 'b',
      'lens.query.enable.persistent.resultset': 'false',
    });
  });

  it('reads what lens-ui builds: declaration, line breaks and indentation', () => {
    const raw = `<?xml version="1.0" encoding="UTF-8"?>
                  <conf>
                    <properties>
                      <entry>
                        <key>lens.query.enable.persistent.resultset</key>
                        <value>true</value>
                       </entry>
                       <entry>
                        <key>lens.query.enable.persistent.resultset.indriver</key>
                        <value>false</value>
                       </entry>
                    </properties>
                  </conf>`;
    expect(confOf(raw)).toEqual({
      'lens.query.enable.persistent.resultset': 'true',
      'lens.query.enable.persistent.resultset.indriver': 'false',
    });
  });

  it('reads JAXB\'s own form with declaration and namespace prefixes', () => {
    const raw = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:conf xmlns:ns2="urn:x"><ns2:properties>${entry('k', 'v')}</ns2:properties></ns2:conf>`;
    expect(confOf(raw)).toEqual({ k: 'v' });
  });

  it('keeps values exactly: whitespace, empty values, entities, CDATA, numbers as text', () => {
    expect(
      confOf(
        conf(
          entry('spaces', '  padded  '),
          entry('empty', ''),
          '<entry><key>self-closed</key><value/></entry>',
          entry('escaped', 'a &lt; b &amp;&amp; c &#x41;&#66;'),
          entry('cdata', '<![CDATA[x < y & z]]>'),
          entry('zeros', '0012'),
          entry('bool', 'TRUE'),
          entry('unicode', 'naïve 日本'),
        ),
      ),
    ).toEqual({
      spaces: '  padded  ',
      empty: '',
      'self-closed': '',
      escaped: 'a < b && c AB',
      cdata: 'x < y & z',
      zeros: '0012',
      bool: 'TRUE',
      unicode: 'naïve 日本',
    });
  });

  it('keeps the last value of a repeated key, as Lens\'s HashMap did', () => {
    expect(confOf(conf(entry('k', '1'), entry('k', '2')))).toEqual({ k: '2' });
  });

  it('keeps "__proto__" an ordinary key without touching prototypes', () => {
    const result = confOf(conf(entry('__proto__', 'x'), entry('constructor', 'y')));
    expect(Object.keys(result)).toEqual(['__proto__', 'constructor']);
    expect(result['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });

  it('refuses entries without key or value, or with an empty key', () => {
    expect(reasonOf(conf('<entry><value>v</value></entry>'))).toBe('conf entry 1 has no key');
    expect(reasonOf(conf(entry('a', 'b'), '<entry><key>k</key></entry>'))).toBe('conf entry "k" has no value');
    expect(reasonOf(conf(entry('', 'v')))).toBe('conf entry 1 has an empty key');
  });

  it('refuses unexpected structure', () => {
    expect(reasonOf('<configuration><property/></configuration>')).toBe('expected a <conf> document, got <configuration>');
    expect(reasonOf('<conf><props/></conf>')).toBe('unexpected element <props> in <conf>');
    expect(reasonOf('<conf><properties><item/></properties></conf>')).toBe('unexpected element <item> in <properties>');
    expect(reasonOf(conf('<entry><key>k</key><value>v</value><note>n</note></entry>'))).toBe('unexpected element <note> in <entry>');
    expect(reasonOf(conf('<entry><key>k</key><key>j</key><value>v</value></entry>'))).toMatch(/<key> must appear once/);
    expect(reasonOf(conf('<entry><key>k</key><value><b>v</b></value></entry>'))).toMatch(/<value> must appear once per entry and hold only text/);
    expect(reasonOf('<conf>text</conf>')).toBe('<conf> must hold elements, not text');
    expect(reasonOf('<conf><properties/><properties/></conf>')).toBe('<properties> must appear once');
  });

  it('refuses XML that is not well formed, such as the Python client\'s unescaped "&"', () => {
    expect(reasonOf(conf(entry('url', 'a=1&b=2')))).toMatch(/not well formed/);
    expect(reasonOf('<conf><properties>')).toMatch(/not well formed/);
  });

  it('refuses DOCTYPE and entity declarations', () => {
    const raw = `<!DOCTYPE conf [<!ENTITY x SYSTEM "file:///etc/passwd">]>${conf(entry('k', '&x;'))}`;
    expect(reasonOf(raw)).toBe('XML with a DOCTYPE or entity declaration is refused');
  });
});

describe('parseLensConf: JSON', () => {
  it('reads MOXy\'s form with the wrapper as the array name', () => {
    expect(confOf(JSON.stringify({ conf: { properties: [{ key: 'a', value: 'b' }, { key: 'c', value: 'd' }] } }))).toEqual({ a: 'b', c: 'd' });
  });

  it('reads the entry form, with one entry or many, wrapped or bare', () => {
    expect(confOf(JSON.stringify({ conf: { properties: { entry: [{ key: 'a', value: 'b' }] } } }))).toEqual({ a: 'b' });
    expect(confOf(JSON.stringify({ conf: { properties: { entry: { key: 'a', value: 'b' } } } }))).toEqual({ a: 'b' });
    expect(confOf(JSON.stringify({ properties: [{ key: 'a', value: 'b' }] }))).toEqual({ a: 'b' });
    expect(confOf(JSON.stringify({ properties: { key: 'a', value: 'b' } }))).toEqual({ a: 'b' });
  });

  it('reads empty forms as {}', () => {
    for (const raw of ['{}', '{"conf":{}}', '{"conf":{"properties":[]}}', '{"properties":null}']) expect(confOf(raw)).toEqual({});
  });

  it('turns number and boolean values into text', () => {
    expect(confOf(JSON.stringify({ properties: [{ key: 'n', value: 5 }, { key: 'b', value: true }] }))).toEqual({ n: '5', b: 'true' });
  });

  it('refuses what is not a conf', () => {
    expect(reasonOf('{oops')).toBe('conf is not valid JSON');
    expect(reasonOf('{"conf": []}')).toBe('conf JSON must be an object');
    expect(reasonOf('{"conf": {"props": []}}')).toBe('unexpected key "props" in conf');
    expect(reasonOf('{"properties": {"a": "b"}}')).toBe('unexpected key "a" in conf entry 1');
    expect(reasonOf('{"properties": ["a"]}')).toBe('conf entry 1 must be an object with key and value');
    expect(reasonOf('{"properties": [{"key": "a"}]}')).toBe('conf entry "a" has no value');
    expect(reasonOf('{"properties": [{"key": "a", "value": null}]}')).toBe('conf entry "a" has no value');
    expect(reasonOf('{"properties": [{"key": 1, "value": "v"}]}')).toBe('conf entry 1 has no key');
    expect(reasonOf('{"properties": [{"key": "a", "value": {"x": 1}}]}')).toBe('conf entry "a" must have a plain value');
    expect(reasonOf('{"properties": [{"key": "a", "value": "b", "__proto__": {}}]}')).toBe('unexpected key "__proto__" in conf entry 1');
  });
});

describe('parseLensConf: limits', () => {
  it('allows exactly the limits', () => {
    const entries = Array.from({ length: LENS_CONF_LIMITS.maxEntries }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    expect(Object.keys(confOf(JSON.stringify({ properties: entries })))).toHaveLength(1000);
    const big = { key: 'k'.repeat(1024), value: 'v'.repeat(64 * 1024) };
    expect(confOf(JSON.stringify({ properties: [big] }))).toEqual({ [big.key]: big.value });
  });

  it('refuses more than 1,000 entries, counting repeats', () => {
    const entries = Array.from({ length: 1001 }, () => entry('same', 'v'));
    expect(reasonOf(conf(...entries))).toBe('conf has 1001 entries; at most 1000 are allowed');
  });

  it('refuses keys over 1 KiB and values over 64 KiB, in UTF-8 bytes', () => {
    expect(reasonOf(conf(entry('k'.repeat(1025), 'v')))).toMatch(/^conf key "k{64}\.\.\." is longer than 1024 bytes$/);
    expect(reasonOf(conf(entry('é'.repeat(513), 'v')))).toMatch(/longer than 1024 bytes/); // 513 chars, 1026 bytes
    expect(reasonOf(conf(entry('k', 'v'.repeat(64 * 1024 + 1))))).toBe('conf value of "k" is longer than 65536 bytes');
    expect(reasonOf(JSON.stringify({ properties: [{ key: 'k', value: '日'.repeat(21846) }] }))).toMatch(/longer than 65536 bytes/);
  });

  it('refuses a document over the size bound before parsing it', () => {
    expect(reasonOf(`<conf>${' '.repeat(LENS_CONF_LIMITS.maxDocumentBytes)}</conf>`)).toBe('conf is longer than 4194304 bytes');
  });

  it('refuses input that is neither XML nor JSON', () => {
    expect(reasonOf('a=b')).toBe('conf must be an XML <conf> document or its JSON form');
    expect(reasonOf('[{"key":"a","value":"b"}]')).toBe('conf must be an XML <conf> document or its JSON form');
  });
});
