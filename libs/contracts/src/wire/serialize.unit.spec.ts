import { contentTypeFor, serialize, type WireRoot } from './serialize';
import { parseSessionHandle } from './parse-session-handle';
import { readXml } from './xml-read';

const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const pub = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const sec = 'a8098c1a-f86e-41d3-80aa-00c04fd430c8';
const qh = '28be0bb7-f675-4065-9de4-0c0be6e39068';

const xml = (root: WireRoot) => serialize(root, 'application/xml');
const json = (root: WireRoot) => JSON.parse(serialize(root, 'application/json'));

describe('serialize: session handle', () => {
  const root: WireRoot = { kind: 'lensSessionHandle', value: { publicId: pub, secretId: sec } };

  it('writes the one-line JAXB document, declaration first, publicId before secretId', () => {
    expect(xml(root)).toBe(
      `${DECL}<lensSessionHandle><publicId>${pub}</publicId><secretId>${sec}</secretId></lensSessionHandle>`,
    );
  });

  it('wraps the JSON in its root name, as lens-ui reads it (secretToken.lensSessionHandle.publicId)', () => {
    expect(json(root)).toEqual({ lensSessionHandle: { publicId: pub, secretId: sec } });
  });

  it('round-trips: the Python client sends back the XML text POST session answered', () => {
    expect(parseSessionHandle(xml(root))).toEqual({ ok: true, handle: { publicId: pub, secretId: sec } });
    expect(parseSessionHandle(serialize(root, 'application/json'))).toEqual({ ok: true, handle: { publicId: pub, secretId: sec } });
  });
});

describe('serialize: APIResult', () => {
  it('writes status then message under apiResult', () => {
    const root: WireRoot = { kind: 'apiResult', value: { status: 'SUCCEEDED', message: 'Set param succeeded' } };
    expect(xml(root)).toBe(`${DECL}<apiResult><status>SUCCEEDED</status><message>Set param succeeded</message></apiResult>`);
    expect(json(root)).toEqual({ apiResult: { status: 'SUCCEEDED', message: 'Set param succeeded' } });
  });

  it('leaves out a missing message, as JAXB and MOXy leave out nulls', () => {
    const root: WireRoot = { kind: 'apiResult', value: { status: 'PARTIAL' } };
    expect(xml(root)).toBe(`${DECL}<apiResult><status>PARTIAL</status></apiResult>`);
    expect(json(root)).toEqual({ apiResult: { status: 'PARTIAL' } });
  });

  it('keeps an empty message as an empty element', () => {
    expect(xml({ kind: 'apiResult', value: { status: 'FAILED', message: '' } })).toBe(
      `${DECL}<apiResult><status>FAILED</status><message></message></apiResult>`,
    );
  });
});

describe('serialize: StringList', () => {
  it('repeats elements without a wrapper in XML and gives a JSON array', () => {
    const root: WireRoot = { kind: 'stringList', value: { elements: ['a=1', 'b=2'] } };
    expect(xml(root)).toBe(`${DECL}<stringList><elements>a=1</elements><elements>b=2</elements></stringList>`);
    expect(json(root)).toEqual({ stringList: { elements: ['a=1', 'b=2'] } });
  });

  it('keeps a single element an array in JSON: the Python client reads elements[0]', () => {
    const body = json({ kind: 'stringList', value: { elements: ['lens.query.output.write.header=false'] } });
    expect(body.stringList.elements[0]).toBe('lens.query.output.write.header=false');
  });

  it('leaves an empty list out entirely', () => {
    const root: WireRoot = { kind: 'stringList', value: { elements: [] } };
    expect(xml(root)).toBe(`${DECL}<stringList/>`);
    expect(json(root)).toEqual({ stringList: {} });
  });
});

describe('serialize: LensAPIResult', () => {
  it('types data by xsi:type in XML and by a "type" key in JSON', () => {
    const root: WireRoot = { kind: 'lensAPIResult', value: { id: 'req-1', data: { type: 'queryHandle', handleId: qh } } };
    expect(xml(root)).toBe(
      `${DECL}<lensAPIResult><id>req-1</id><data xsi:type="queryHandle" ${XSI}><handleId>${qh}</handleId></data></lensAPIResult>`,
    );
    expect(json(root)).toEqual({ lensAPIResult: { id: 'req-1', data: { type: 'queryHandle', handleId: qh } } });
  });

  it('gives data exactly two keys, which the Python client unwraps to {queryHandle: handleId}', () => {
    const data = json({ kind: 'lensAPIResult', value: { id: 'r', data: { type: 'queryHandle', handleId: qh } } }).lensAPIResult.data;
    expect(Object.keys(data)).toHaveLength(2);
    expect(data.type).toBe('queryHandle');
  });

  it('writes apiVersion first when given', () => {
    const root: WireRoot = { kind: 'lensAPIResult', value: { apiVersion: '1', id: 'r', data: { type: 'queryHandle', handleId: qh } } };
    expect(xml(root)).toContain('<lensAPIResult><apiVersion>1</apiVersion><id>r</id><data');
  });

  it('writes an error with its code as a JSON number and leaves out what is missing', () => {
    const root: WireRoot = { kind: 'lensAPIResult', value: { id: 'r', error: { code: 2005, message: 'closed' } } };
    expect(xml(root)).toBe(`${DECL}<lensAPIResult><id>r</id><error><code>2005</code><message>closed</message></error></lensAPIResult>`);
    expect(json(root)).toEqual({ lensAPIResult: { id: 'r', error: { code: 2005, message: 'closed' } } });
  });

  it('writes the supported operations payload and child errors under their wrappers', () => {
    const root: WireRoot = {
      kind: 'lensAPIResult',
      value: {
        id: 'r',
        error: {
          code: 2003,
          message: 'no',
          stackTrace: 'trace',
          payload: { type: 'supportedOperations', supportedOperations: ['estimate', 'execute'] },
          childErrors: [{ code: 1001, message: 'inner' }],
        },
      },
    };
    expect(xml(root)).toBe(
      `${DECL}<lensAPIResult><id>r</id><error><code>2003</code><message>no</message><stackTrace>trace</stackTrace>` +
        `<payload xsi:type="supportedOperations" ${XSI}><supportedOperations><operation>estimate</operation><operation>execute</operation></supportedOperations></payload>` +
        `<childErrors><error><code>1001</code><message>inner</message></error></childErrors></error></lensAPIResult>`,
    );
    expect(json(root)).toEqual({
      lensAPIResult: {
        id: 'r',
        error: {
          code: 2003,
          message: 'no',
          stackTrace: 'trace',
          payload: { type: 'supportedOperations', supportedOperations: ['estimate', 'execute'] },
          childErrors: [{ code: 1001, message: 'inner' }],
        },
      },
    });
  });

  it('writes a query cost and a query plan', () => {
    const cost: WireRoot = {
      kind: 'lensAPIResult',
      value: { id: 'r', data: { type: 'queryCostTO', estimatedExecTimeMillis: 1200, estimatedResourceUsage: 0.5, costType: 'LOW' } },
    };
    expect(xml(cost)).toContain(
      `<data xsi:type="queryCostTO" ${XSI}><estimatedExecTimeMillis>1200</estimatedExecTimeMillis><estimatedResourceUsage>0.5</estimatedResourceUsage><costType>LOW</costType></data>`,
    );
    expect(json(cost).lensAPIResult.data).toEqual({ type: 'queryCostTO', estimatedExecTimeMillis: 1200, estimatedResourceUsage: 0.5, costType: 'LOW' });

    const plan: WireRoot = {
      kind: 'lensAPIResult',
      value: { id: 'r', data: { type: 'queryPlan', tablesQueried: ['db.t'], hasSubQuery: false, planString: 'SELECT+1', queryCost: { costType: 'HIGH' } } },
    };
    expect(xml(plan)).toContain(
      `<data xsi:type="queryPlan" ${XSI}><tablesQueried><tablesQueried>db.t</tablesQueried></tablesQueried><hasSubQuery>false</hasSubQuery><planString>SELECT+1</planString><queryCost><costType>HIGH</costType></queryCost></data>`,
    );
    expect(json(plan).lensAPIResult.data).toEqual({
      type: 'queryPlan',
      tablesQueried: ['db.t'],
      hasSubQuery: false,
      planString: 'SELECT+1',
      queryCost: { costType: 'HIGH' },
    });
  });
});

describe('serialize: lists', () => {
  const info = { handle: pub, userName: 'ana', activeQueries: [{ handleId: qh }], creationTime: 1700000000000, lastAccessTime: 1700000001000 };

  it('writes GET session/sessions under Jersey\'s plural root, items in field order', () => {
    expect(xml({ kind: 'userSessionInfoList', value: [info] })).toBe(
      `${DECL}<userSessionInfoes><userSessionInfo><handle>${pub}</handle><userName>ana</userName>` +
        `<activeQueries><handleId>${qh}</handleId></activeQueries><creationTime>1700000000000</creationTime>` +
        `<lastAccessTime>1700000001000</lastAccessTime></userSessionInfo></userSessionInfoes>`,
    );
  });

  it('writes lists as bare JSON arrays of wrapped items, times as numbers', () => {
    expect(json({ kind: 'userSessionInfoList', value: [info] })).toEqual([
      { userSessionInfo: { ...info, activeQueries: [{ handleId: qh }] } },
    ]);
    // lens-ui reads handles.map(h => h.queryHandle.handleId)
    expect(json({ kind: 'queryHandleList', value: [{ handleId: qh }] })).toEqual([{ queryHandle: { handleId: qh } }]);
  });

  it('leaves out empty activeQueries and writes empty lists as an empty root or []', () => {
    expect(json({ kind: 'userSessionInfoList', value: [{ ...info, activeQueries: [] }] })[0].userSessionInfo).not.toHaveProperty('activeQueries');
    expect(xml({ kind: 'userSessionInfoList', value: [] })).toBe(`${DECL}<userSessionInfoes></userSessionInfoes>`);
    expect(serialize({ kind: 'queryHandleList', value: [] }, 'application/json')).toBe('[]');
    expect(xml({ kind: 'queryHandleList', value: [{ handleId: qh }] })).toBe(
      `${DECL}<queryHandles><queryHandle><handleId>${qh}</handleId></queryHandle></queryHandles>`,
    );
  });
});

describe('serialize: escaping and text', () => {
  it('escapes XML special characters and keeps the document readable', () => {
    const message = `a < b && c > "d" 'e'`;
    const body = xml({ kind: 'apiResult', value: { status: 'FAILED', message } });
    expect(body).toContain('<message>a &lt; b &amp;&amp; c &gt; &quot;d&quot; \'e\'</message>');
    const read = readXml(body);
    expect(read.ok && typeof read.content !== 'string' && read.content['message']).toBe(message);
  });

  it('replaces characters XML cannot carry, in XML only', () => {
    const message = 'bell\u0007 and lone \uD800 surrogate';
    expect(xml({ kind: 'apiResult', value: { status: 'FAILED', message } })).toContain('<message>bell\uFFFD and lone \uFFFD surrogate</message>');
    expect(json({ kind: 'apiResult', value: { status: 'FAILED', message: 'bell\u0007' } }).apiResult.message).toBe('bell\u0007');
  });

  it('keeps non-ASCII text as is', () => {
    expect(xml({ kind: 'stringList', value: { elements: ['naïve=日本'] } })).toContain('<elements>naïve=日本</elements>');
  });

  it('writes text answers as they are, whatever was asked for, as text/plain', () => {
    const root: WireRoot = { kind: 'text', value: 'session is up!' };
    expect(serialize(root, 'application/xml')).toBe('session is up!');
    expect(serialize(root, 'application/json')).toBe('session is up!');
    expect(contentTypeFor(root, 'application/json')).toBe('text/plain');
    expect(contentTypeFor({ kind: 'apiResult', value: { status: 'SUCCEEDED' } }, 'application/json')).toBe('application/json');
  });
});
