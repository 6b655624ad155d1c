import { LensSessionHandleSchema, type LensSessionHandle } from './lens-types';
import { utf8Length } from './utf8-length';
import { readXml, type XmlContent } from './xml-read';

/*
 * The `sessionid` parameter is the handle's own document. Lens reads it with JAXB
 * (LensSessionHandle.valueOf, via lens-api/src/main/java/org/apache/lens/api/ToXMLString.java);
 * the Python client (contrib/clients/python/lens/client/session.py) passes back the XML text POST
 * session answered, declaration included; lens-ui (lens-ui/app/stores/UserStore.js) builds it by
 * hand with line breaks and indentation; the Java client sends JAXB's own one-line form.
 */

export const MAX_SESSION_HANDLE_BYTES = 4 * 1024;

export type ParseSessionHandleResult = { ok: true; handle: LensSessionHandle } | { ok: false; reason: string };

const fail = (reason: string): ParseSessionHandleResult => ({ ok: false, reason });

const UUID_TEXT = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/**
 * The one-line form JAXB (and Quarry's own POST session answer) writes, declaration or not. A
 * handle in exactly this form reads as the full path below would read it, without validating and
 * parsing a document: the first use of a session id on a node is one such read (~0.25 ms).
 */
const CANONICAL_XML = new RegExp(
  `^(?:<\\?xml version="1\\.0" encoding="UTF-8" standalone="yes"\\?>)?<lensSessionHandle><publicId>(${UUID_TEXT})</publicId><secretId>(${UUID_TEXT})</secretId></lensSessionHandle>$`,
);

function fromXml(text: string): ParseSessionHandleResult {
  const canonical = CANONICAL_XML.exec(text);
  if (canonical) return { ok: true, handle: { publicId: canonical[1].toLowerCase(), secretId: canonical[2].toLowerCase() } };
  const doc = readXml(text);
  if (!doc.ok) return fail(doc.reason);
  if (doc.root !== 'lensSessionHandle') return fail(`expected a <lensSessionHandle> document, got <${doc.root}>`);
  const children: { [name: string]: XmlContent | XmlContent[] } = typeof doc.content === 'string' ? {} : doc.content;
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(children)) {
    if (name !== 'publicId' && name !== 'secretId') return fail(`unexpected element <${name}> in the session handle`);
    if (typeof value !== 'string') return fail(`<${name}> must appear once and hold only text`);
    fields[name] = value.trim();
  }
  return fromFields(fields);
}

function fromJson(text: string): ParseSessionHandleResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('session handle is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('session handle JSON must be an object');
  const keys = Object.keys(value);
  if (!keys.includes('lensSessionHandle')) return fromFields(value);
  const other = keys.find((key) => key !== 'lensSessionHandle');
  if (other !== undefined) return fail(`unexpected key "${other}" next to lensSessionHandle`);
  return fromFields((value as Record<string, unknown>)['lensSessionHandle']);
}

function fromFields(fields: unknown): ParseSessionHandleResult {
  const parsed = LensSessionHandleSchema.safeParse(fields);
  if (parsed.success) return { ok: true, handle: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue.path.join('.');
  if (issue.code === 'invalid_type') {
    if (where === '') return fail('session handle must be an object');
    return fail(issue.received === 'undefined' ? `session handle has no ${where}` : `session handle ${where} must be a string`);
  }
  return fail(where ? `session handle ${where} ${issue.message}` : `session handle: ${issue.message}`);
}

/**
 * Reads a session handle as a Lens client sends it: the XML document (with or without declaration,
 * namespace prefixes or layout) or the JSON form, wrapped in `lensSessionHandle` or bare.
 */
export function parseSessionHandle(raw: string | undefined): ParseSessionHandleResult {
  if (raw === undefined || raw.trim() === '') return fail('session id is missing');
  if (raw.length > MAX_SESSION_HANDLE_BYTES || utf8Length(raw) > MAX_SESSION_HANDLE_BYTES) {
    return fail(`session id is longer than ${MAX_SESSION_HANDLE_BYTES} bytes`);
  }
  const text = raw.trim(); // trim() also drops a byte-order mark
  if (text.startsWith('<')) return fromXml(text);
  if (text.startsWith('{')) return fromJson(text);
  if (/^%3C|^%7B/i.test(text)) return fail('session id looks URL-encoded twice; send it encoded once');
  return fail('session id must be the XML or JSON form of a session handle');
}
