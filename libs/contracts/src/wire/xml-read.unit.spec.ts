import { escapeXml } from './wire-tree';
import { readXml } from './xml-read';

describe('readXml', () => {
  it('reads nested elements, arrays for repeats, text as strings', () => {
    expect(readXml('<a><b>1</b><b>2</b><c/><d> x </d></a>')).toEqual({ ok: true, root: 'a', content: { b: ['1', '2'], c: '', d: ' x ' } });
  });

  it('skips declaration, processing instructions, comments, layout and a byte-order mark', () => {
    const doc = '\uFEFF<?xml version="1.0"?><?pi data?><!-- c --><a>\n  <b>1</b>\n  <!-- c -->\n</a>';
    expect(readXml(doc)).toEqual({ ok: true, root: 'a', content: { b: '1' } });
  });

  it('refuses mixed text and elements', () => {
    expect(readXml('<a>x<b/></a>')).toEqual({ ok: false, reason: 'XML has text outside its root element' });
  });

  it('refuses element names that could pollute prototypes', () => {
    const result = readXml('<a><__proto__><polluted>1</polluted></__proto__></a>');
    expect(result.ok).toBe(false);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses absurd nesting', () => {
    const deep = `${'<a>'.repeat(200)}${'</a>'.repeat(200)}`;
    expect(readXml(deep)).toMatchObject({ ok: false });
  });

  it('refuses DOCTYPE in any case and a lone ENTITY declaration', () => {
    expect(readXml('<!doctype a><a/>')).toMatchObject({ ok: false, reason: expect.stringMatching(/DOCTYPE/) });
    expect(readXml('<a><!ENTITY x "y"></a>')).toMatchObject({ ok: false, reason: expect.stringMatching(/DOCTYPE or entity/) });
  });

  it('reads back what escapeXml wrote', () => {
    const text = `<&>"' ]]> &amp;`;
    expect(readXml(`<a>${escapeXml(text)}</a>`)).toEqual({ ok: true, root: 'a', content: text });
  });
});
