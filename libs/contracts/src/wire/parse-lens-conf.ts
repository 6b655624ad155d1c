import type { LensConf } from './lens-types';
import { utf8Length } from './utf8-length';
import { readXml, type XmlContent } from './xml-read';

/*
 * The `sessionconf` and `conf` multipart parts. LensConf.java (lens-api/src/main/java/org/apache/
 * lens/api/LensConf.java) is a HashMap under @XmlElementWrapper `properties`, so JAXB's XML is
 * <conf><properties><entry><key/><value/></entry>...</properties></conf>; the Python client
 * (contrib/clients/python/lens/client/utils.py, conf_to_xml) sends `<conf></conf>` when empty.
 * For JSON, MOXy with JSON_WRAPPER_AS_ARRAY_NAME (util/MoxyJsonConfigurationContextResolver.java)
 * gives {"conf":{"properties":[{"key":..,"value":..}]}}; the {"entry": [...]} form MOXy writes
 * without that setting is read too.
 */

export const LENS_CONF_LIMITS = {
  maxEntries: 1000,
  maxKeyBytes: 1024,
  maxValueBytes: 64 * 1024,
  /** Bounds parsing work before the per-entry limits can be checked. */
  maxDocumentBytes: 4 * 1024 * 1024,
} as const;

export type ParseLensConfResult = { ok: true; conf: LensConf } | { ok: false; reason: string };

type Entry = { key: unknown; value: unknown };

class ConfError extends Error {}

// Builds the map with Lens's HashMap semantics (a repeated key keeps its last value).
function toConf(entries: Entry[]): LensConf {
  if (entries.length > LENS_CONF_LIMITS.maxEntries) {
    throw new ConfError(`conf has ${entries.length} entries; at most ${LENS_CONF_LIMITS.maxEntries} are allowed`);
  }
  const map = new Map<string, string>();
  entries.forEach(({ key, value }, i) => {
    if (typeof key !== 'string') throw new ConfError(`conf entry ${i + 1} has no key`);
    if (key === '') throw new ConfError(`conf entry ${i + 1} has an empty key`);
    if (value === undefined || value === null) throw new ConfError(`conf entry "${key}" has no value`);
    if (typeof value === 'object') throw new ConfError(`conf entry "${key}" must have a plain value`);
    if (utf8Length(key) > LENS_CONF_LIMITS.maxKeyBytes) {
      throw new ConfError(`conf key "${key.slice(0, 64)}..." is longer than ${LENS_CONF_LIMITS.maxKeyBytes} bytes`);
    }
    const text = String(value);
    if (utf8Length(text) > LENS_CONF_LIMITS.maxValueBytes) {
      throw new ConfError(`conf value of "${key}" is longer than ${LENS_CONF_LIMITS.maxValueBytes} bytes`);
    }
    map.set(key, text);
  });
  // fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
  return Object.fromEntries(map);
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function childrenOf(content: XmlContent, what: string): { [name: string]: XmlContent | XmlContent[] } {
  if (typeof content !== 'string') return content;
  if (content.trim() !== '') throw new ConfError(`${what} must hold elements, not text`);
  return {};
}

function fromXml(text: string): LensConf {
  const doc = readXml(text);
  if (!doc.ok) throw new ConfError(doc.reason);
  if (doc.root !== 'conf') throw new ConfError(`expected a <conf> document, got <${doc.root}>`);
  const entries: Entry[] = [];
  for (const [name, properties] of Object.entries(childrenOf(doc.content, '<conf>'))) {
    if (name !== 'properties') throw new ConfError(`unexpected element <${name}> in <conf>`);
    if (Array.isArray(properties)) throw new ConfError('<properties> must appear once');
    for (const [entryName, entryList] of Object.entries(childrenOf(properties, '<properties>'))) {
      if (entryName !== 'entry') throw new ConfError(`unexpected element <${entryName}> in <properties>`);
      for (const entry of asList(entryList)) entries.push(xmlEntry(entry));
    }
  }
  return toConf(entries);
}

function xmlEntry(entry: XmlContent): Entry {
  const fields = childrenOf(entry, '<entry>');
  for (const [name, value] of Object.entries(fields)) {
    if (name !== 'key' && name !== 'value') throw new ConfError(`unexpected element <${name}> in <entry>`);
    if (typeof value !== 'string') throw new ConfError(`<${name}> must appear once per entry and hold only text`);
  }
  return { key: fields['key'], value: fields['value'] };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fromJson(text: string): LensConf {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfError('conf is not valid JSON');
  }
  if (!isRecord(parsed)) throw new ConfError('conf JSON must be an object');
  const keys = Object.keys(parsed);
  const conf = keys.length === 1 && keys[0] === 'conf' ? parsed['conf'] : parsed;
  if (!isRecord(conf)) throw new ConfError('conf JSON must be an object');
  const unexpected = Object.keys(conf).find((k) => k !== 'properties');
  if (unexpected !== undefined) throw new ConfError(`unexpected key "${unexpected}" in conf`);
  let properties = conf['properties'];
  if (properties === undefined || properties === null) return {};
  if (isRecord(properties) && Object.keys(properties).length === 1 && 'entry' in properties) properties = properties['entry'];
  const entries = asList(properties).map((entry, i) => {
    if (!isRecord(entry)) throw new ConfError(`conf entry ${i + 1} must be an object with key and value`);
    const extra = Object.keys(entry).find((k) => k !== 'key' && k !== 'value');
    if (extra !== undefined) throw new ConfError(`unexpected key "${extra}" in conf entry ${i + 1}`);
    return { key: entry['key'], value: entry['value'] };
  });
  return toConf(entries);
}

/** Reads a LensConf part as XML or JSON (told apart by the first character); nothing at all is {}. */
export function parseLensConf(raw: string | undefined): ParseLensConfResult {
  if (raw === undefined || raw.trim() === '') return { ok: true, conf: {} };
  if (raw.length > LENS_CONF_LIMITS.maxDocumentBytes || utf8Length(raw) > LENS_CONF_LIMITS.maxDocumentBytes) {
    return { ok: false, reason: `conf is longer than ${LENS_CONF_LIMITS.maxDocumentBytes} bytes` };
  }
  const text = raw.trim(); // trim() also drops a byte-order mark
  try {
    if (text.startsWith('<')) return { ok: true, conf: fromXml(text) };
    if (text.startsWith('{')) return { ok: true, conf: fromJson(text) };
  } catch (e) {
    if (e instanceof ConfError) return { ok: false, reason: e.message };
    throw e;
  }
  return { ok: false, reason: 'conf must be an XML <conf> document or its JSON form' };
}
