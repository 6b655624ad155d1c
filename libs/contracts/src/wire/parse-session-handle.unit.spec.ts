import { MAX_SESSION_HANDLE_BYTES, parseSessionHandle } from './parse-session-handle';

const pub = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const sec = 'a8098c1a-f86e-41d3-80aa-00c04fd430c8';
const handle = { publicId: pub, secretId: sec };
const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
const body = `<publicId>${pub}</publicId><secretId>${sec}</secretId>`;

function reasonOf(raw: string | undefined): string {
  const result = parseSessionHandle(raw);
  if (result.ok) throw new Error(`expected a refusal of ${raw}`);
  return result.reason;
}

describe('parseSessionHandle: accepted forms', () => {
  it.each([
    ['JAXB one-liner with declaration (Java client, Python client)', `${DECL}<lensSessionHandle>${body}</lensSessionHandle>`],
    ['without the declaration', `<lensSessionHandle>${body}</lensSessionHandle>`],
    [
      "lens-ui's hand-built form with layout",
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
      <lensSessionHandle>
        <publicId>${pub}</publicId>
        <secretId>${sec}</secretId>
      </lensSessionHandle>`,
    ],
    ['with namespace prefixes', `<ns2:lensSessionHandle xmlns:ns2="urn:x"><ns2:publicId>${pub}</ns2:publicId><ns2:secretId>${sec}</ns2:secretId></ns2:lensSessionHandle>`],
    ['with a default namespace and attributes', `<lensSessionHandle xmlns="urn:x" a="1">${body}</lensSessionHandle>`],
    ['with whitespace inside the ids', `<lensSessionHandle><publicId> ${pub}\n</publicId><secretId>\t${sec}</secretId></lensSessionHandle>`],
    ['with secretId first', `<lensSessionHandle><secretId>${sec}</secretId><publicId>${pub}</publicId></lensSessionHandle>`],
    ['with comments and surrounding whitespace', `\n ${DECL}<!-- handle --><lensSessionHandle>${body}<!-- x --></lensSessionHandle>\n`],
    ['with a byte-order mark', `\uFEFF${DECL}<lensSessionHandle>${body}</lensSessionHandle>`],
    ['with character references', `<lensSessionHandle><publicId>&#51;f2504e0-4f89-41d3-9a0c-0305e82c3301</publicId><secretId>${sec}</secretId></lensSessionHandle>`],
    ['as wrapped JSON', JSON.stringify({ lensSessionHandle: handle })],
    ['as bare JSON', JSON.stringify(handle)],
    ['as pretty-printed MOXy JSON', `{\n   "lensSessionHandle" : {\n      "publicId" : "${pub}",\n      "secretId" : "${sec}"\n   }\n}`],
  ])('%s', (_label, raw) => {
    expect(parseSessionHandle(raw)).toEqual({ ok: true, handle });
  });

  it('lower-cases the ids, as Java\'s UUID does', () => {
    const raw = `<lensSessionHandle><publicId>${pub.toUpperCase()}</publicId><secretId>${sec.toUpperCase()}</secretId></lensSessionHandle>`;
    expect(parseSessionHandle(raw)).toEqual({ ok: true, handle });
  });

  it('reads the one-line form (read without the XML parser) as the full reader reads the same handle', () => {
    const ids = (p: string, s: string) => `<publicId>${p}</publicId><secretId>${s}</secretId>`;
    for (const [p, s] of [
      [pub, sec],
      [pub.toUpperCase(), sec],
      ['3F2504E0-4f89-41D3-9a0c-0305e82c3301', sec.toUpperCase()],
    ]) {
      // A comment sends the same handle down the full path.
      const full = parseSessionHandle(`${DECL}<lensSessionHandle><!-- full -->${ids(p, s)}</lensSessionHandle>`);
      expect(parseSessionHandle(`${DECL}<lensSessionHandle>${ids(p, s)}</lensSessionHandle>`)).toEqual(full);
      expect(parseSessionHandle(`<lensSessionHandle>${ids(p, s)}</lensSessionHandle>`)).toEqual(full);
      expect(full).toEqual({ ok: true, handle });
    }
  });
});

describe('parseSessionHandle: refusals', () => {
  it.each([undefined, '', '  \n'])('refuses a missing session id (%p)', (raw) => {
    expect(reasonOf(raw)).toBe('session id is missing');
  });

  it('refuses input over 4 KiB, counting bytes not characters', () => {
    const padded = `<lensSessionHandle>${body}<!--${'x'.repeat(MAX_SESSION_HANDLE_BYTES)}--></lensSessionHandle>`;
    expect(reasonOf(padded)).toMatch(/longer than 4096 bytes/);
    const multibyte = `<lensSessionHandle>${body}<!--${'é'.repeat(2000)}--></lensSessionHandle>`; // < 4096 chars, > 4096 bytes
    expect(multibyte.length).toBeLessThan(MAX_SESSION_HANDLE_BYTES);
    expect(reasonOf(multibyte)).toMatch(/longer than 4096 bytes/);
  });

  it('refuses ids that are not UUIDs', () => {
    expect(reasonOf(`<lensSessionHandle><publicId>abc</publicId><secretId>${sec}</secretId></lensSessionHandle>`)).toBe(
      'session handle publicId is not a UUID',
    );
    // Java's UUID.fromString took this short form; Quarry does not.
    expect(reasonOf(`<lensSessionHandle><publicId>1-1-1-1-1</publicId><secretId>${sec}</secretId></lensSessionHandle>`)).toMatch(/not a UUID/);
    expect(reasonOf(JSON.stringify({ publicId: pub, secretId: `${sec}0` }))).toBe('session handle secretId is not a UUID');
    expect(reasonOf(JSON.stringify({ publicId: 42, secretId: sec }))).toBe('session handle publicId must be a string');
  });

  it('refuses a handle missing a field', () => {
    expect(reasonOf(`<lensSessionHandle><publicId>${pub}</publicId></lensSessionHandle>`)).toBe('session handle has no secretId');
    expect(reasonOf('<lensSessionHandle/>')).toBe('session handle has no publicId');
    expect(reasonOf(JSON.stringify({ lensSessionHandle: { secretId: sec } }))).toBe('session handle has no publicId');
  });

  it('refuses repeated, nested or unknown elements', () => {
    expect(reasonOf(`<lensSessionHandle>${body}<publicId>${pub}</publicId></lensSessionHandle>`)).toBe(
      '<publicId> must appear once and hold only text',
    );
    expect(reasonOf(`<lensSessionHandle><publicId><x>${pub}</x></publicId><secretId>${sec}</secretId></lensSessionHandle>`)).toMatch(
      /must appear once and hold only text/,
    );
    expect(reasonOf(`<lensSessionHandle>${body}<extra>1</extra></lensSessionHandle>`)).toBe(
      'unexpected element <extra> in the session handle',
    );
    expect(reasonOf(`<lensSessionHandle>text${body}</lensSessionHandle>`)).toMatch(/text outside|not well formed/);
  });

  it('refuses another root element', () => {
    expect(reasonOf(`<queryHandle><handleId>${pub}</handleId></queryHandle>`)).toBe(
      'expected a <lensSessionHandle> document, got <queryHandle>',
    );
  });

  it('refuses XML that is not well formed, or has more than a root', () => {
    expect(reasonOf(`<lensSessionHandle>${body}`)).toMatch(/not well formed/);
    expect(reasonOf(`<lensSessionHandle>${body}</lensSessionHandle><lensSessionHandle/>`)).toBe('XML must have exactly one root element');
    expect(reasonOf(`<lensSessionHandle>${body}</lensSessionHandle><other/>`)).toBe('XML must have exactly one root element');
    expect(reasonOf(`<lensSessionHandle>${body}</lensSessionHandle>trailing`)).toBe('XML has text outside its root element');
    expect(reasonOf('<lensSessionHandle/>trailing')).toBe('XML has text outside its root element');
    expect(reasonOf(`<lensSessionHandle><publicId>a&b</publicId></lensSessionHandle>`)).toMatch(/not well formed/);
  });

  it('refuses DOCTYPE and entity declarations (no XXE, no entity expansion)', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE lensSessionHandle [<!ENTITY x SYSTEM "file:///etc/passwd">]><lensSessionHandle><publicId>&x;</publicId><secretId>${sec}</secretId></lensSessionHandle>`;
    expect(reasonOf(xxe)).toBe('XML with a DOCTYPE or entity declaration is refused');
    const laughs = `<!doctype a [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><lensSessionHandle>${body}</lensSessionHandle>`;
    expect(reasonOf(laughs)).toBe('XML with a DOCTYPE or entity declaration is refused');
  });

  it('refuses JSON that is not a handle', () => {
    expect(reasonOf('{not json')).toBe('session handle is not valid JSON');
    expect(reasonOf('{"lensSessionHandle": [1]}')).toBe('session handle must be an object');
    expect(reasonOf(JSON.stringify({ ...handle, extra: 1 }))).toMatch(/Unrecognized key/);
    expect(reasonOf(JSON.stringify({ lensSessionHandle: handle, other: 1 }))).toBe('unexpected key "other" next to lensSessionHandle');
    expect(reasonOf(`{"__proto__": ${JSON.stringify(handle)}}`)).toBe('session handle has no publicId');
    expect(({} as Record<string, unknown>)['publicId']).toBeUndefined();
    expect(reasonOf('{"lensSessionHandle": null}')).toBe('session handle must be an object');
    expect(reasonOf('{"lensSessionHandle": "x"}')).toBe('session handle must be an object');
  });

  it('refuses anything else, with a hint when it was URL-encoded twice', () => {
    expect(reasonOf(pub)).toBe('session id must be the XML or JSON form of a session handle');
    expect(reasonOf(encodeURIComponent(`<lensSessionHandle>${body}</lensSessionHandle>`))).toMatch(/URL-encoded twice/);
    expect(reasonOf('[1,2]')).toMatch(/XML or JSON form/);
  });
});
