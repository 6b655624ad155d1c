import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** An element's content: text, or child elements by local name (repeated names give arrays). */
export type XmlContent = string | XmlChildren;
export interface XmlChildren {
  [name: string]: XmlContent | XmlContent[];
}

export type XmlReadResult = { ok: true; root: string; content: XmlContent } | { ok: false; reason: string };

const TEXT = '#text';

const parser = new XMLParser({
  ignoreAttributes: true,
  // Clients may send ns2:lensSessionHandle and the like; Lens's types live in no namespace.
  removeNSPrefix: true,
  // Keep every value a string, exactly as sent: "0012" must not become 12.
  parseTagValue: false,
  trimValues: false,
  // Numeric character references are decoded only with this on.
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  textNodeName: TEXT,
});

/** Text between child elements is only layout; text directly in an element is its value. */
function clean(content: unknown): XmlContent | undefined {
  if (typeof content === 'string') return content;
  if (typeof content !== 'object' || content === null) return undefined;
  const out: XmlChildren = {};
  for (const [name, value] of Object.entries(content)) {
    if (name === TEXT) {
      if (String(value).trim() !== '') return undefined;
      continue;
    }
    const items = (Array.isArray(value) ? value : [value]).map(clean);
    if (items.some((item) => item === undefined)) return undefined;
    out[name] = items.length === 1 ? (items[0] as XmlContent) : (items as XmlContent[]);
  }
  return out;
}

/**
 * Reads a small XML document into plain values. Refuses any DOCTYPE (so no entity expansion and no
 * external entities), anything not well formed, and mixed text-and-element content.
 */
export function readXml(text: string): XmlReadResult {
  const doc = text.replace(/^\uFEFF/, '');
  if (/<!DOCTYPE|<!ENTITY/i.test(doc)) return { ok: false, reason: 'XML with a DOCTYPE or entity declaration is refused' };
  // The validator lets text after a self-closed root through, and the parser drops it.
  if (!doc.trimEnd().endsWith('>')) return { ok: false, reason: 'XML has text outside its root element' };
  const valid = XMLValidator.validate(doc);
  if (valid !== true) {
    return { ok: false, reason: `XML is not well formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(doc);
  } catch (e) {
    return { ok: false, reason: `XML could not be read: ${(e as Error).message}` };
  }
  const top = clean(parsed);
  if (top === undefined || typeof top === 'string') return { ok: false, reason: 'XML has text outside its root element' };
  const roots = Object.keys(top);
  if (roots.length !== 1 || Array.isArray(top[roots[0]])) return { ok: false, reason: 'XML must have exactly one root element' };
  return { ok: true, root: roots[0], content: top[roots[0]] as XmlContent };
}
