/*
 * One element tree rendered two ways, as Lens did: JAXB writes the XML and MOXy the JSON from the
 * same annotations (MOXy settings: lens-api/src/main/java/org/apache/lens/api/util/
 * MoxyJsonConfigurationContextResolver.java — root included, empty collections left out, a
 * wrapper element's name used as the JSON array's key).
 */

/**
 * A number kept as exact text: bare in JSON, as is in XML. For Java's number forms ("1.0",
 * "1.0E10"), longs past 2^53 and decimals. Text that is not a JSON number ("NaN", "INF") is
 * written as a JSON string instead, so the JSON stays valid.
 */
export interface WireNumber {
  readonly numberText: string;
}

export type WireLeaf = string | number | boolean | WireNumber;

export interface WireObject {
  /** A subtype written as xsi:type in XML and as a leading `type` key in JSON. */
  xsiType?: string;
  fields: WireField[];
}

/**
 * A simple value in a slot declared as Object (ResultRow.values): in XML an element with
 * xsi:type="xs:<xsdType>"; in JSON MOXy's {"type": "<xsdType>", "value": <value>}.
 */
export interface WireTypedValue {
  readonly xsdType: string;
  readonly value: WireLeaf;
}

export type WireValue = WireLeaf | WireObject | WireTypedValue;

/** A list item; null is written as xsi:nil in XML and null in JSON. */
export type WireItem = WireValue | null;

export type WireField =
  /** One element, left out when undefined (JAXB and MOXy skip nulls). */
  | { name: string; value: WireValue | undefined }
  /** One element per item; `wrapper` is an @XmlElementWrapper around them. Left out when empty. */
  | { name: string; items: readonly WireItem[]; wrapper?: string };

export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const XS = 'http://www.w3.org/2001/XMLSchema';
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

// Characters XML 1.0 cannot carry at all, not even as references.
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Any character escapeXml changes; most text has none, and one test is cheaper than five replaces.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[&<>"\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Escapes text and attribute values; characters XML cannot carry become U+FFFD so the document stays readable. */
export function escapeXml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const isTyped = (value: WireValue): value is WireTypedValue => typeof value === 'object' && 'xsdType' in value;
const isObject = (value: WireValue): value is WireObject => typeof value === 'object' && 'fields' in value;

function leafText(leaf: WireLeaf): string {
  return typeof leaf === 'object' ? leaf.numberText : String(leaf);
}

/** Namespace prefixes an ancestor already declared; a serializer declares each where first needed. */
interface XmlScope {
  xsi: boolean;
  xs: boolean;
}
const NOTHING_DECLARED: XmlScope = { xsi: false, xs: false };

function declarations(scope: XmlScope, needXs: boolean): string {
  return (needXs && !scope.xs ? ` xmlns:xs="${XS}"` : '') + (scope.xsi ? '' : ` xmlns:xsi="${XSI}"`);
}

function xmlElement(name: string, value: WireItem, scope: XmlScope): string {
  if (value === null) return `<${name} xsi:nil="true"${declarations(scope, false)}/>`;
  if (isTyped(value)) {
    const text = escapeXml(leafText(value.value));
    return `<${name} xsi:type="xs:${escapeXml(value.xsdType)}"${declarations(scope, true)}>${text}</${name}>`;
  }
  if (!isObject(value)) return `<${name}>${escapeXml(leafText(value))}</${name}>`;
  const attrs = value.xsiType ? ` xsi:type="${escapeXml(value.xsiType)}"${declarations(scope, false)}` : '';
  const inner = value.xsiType ? { ...scope, xsi: true } : scope;
  const body = value.fields.map((field) => xmlField(field, inner)).join('');
  return body === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${body}</${name}>`;
}

function xmlField(field: WireField, scope: XmlScope): string {
  if ('value' in field) return field.value === undefined ? '' : xmlElement(field.name, field.value, scope);
  if (field.items.length === 0) return '';
  const items = field.items.map((item) => xmlElement(field.name, item, scope)).join('');
  return field.wrapper ? `<${field.wrapper}>${items}</${field.wrapper}>` : items;
}

/** A whole document: the declaration JAXB writes, then the root, on one line. */
export function toXml(rootName: string, root: WireObject): string {
  return XML_DECLARATION + xmlElement(rootName, root, NOTHING_DECLARED);
}

/** A list answer: Jersey writes the declaration, a plural root, then each item as its own root. */
export function toXmlList(listName: string, itemName: string, items: readonly WireObject[]): string {
  const body = items.map((item) => xmlElement(itemName, item, NOTHING_DECLARED)).join('');
  return `${XML_DECLARATION}<${listName}>${body}</${listName}>`;
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A number's exact text in JSON: bare when JSON reads it as a number, else as a string ("NaN", "INF"). */
export function jsonNumberText(text: string): string {
  return JSON_NUMBER.test(text) ? text : JSON.stringify(text);
}

function jsonLeaf(leaf: WireLeaf): string {
  if (typeof leaf === 'object') return jsonNumberText(leaf.numberText);
  // JSON.stringify writes a number that is not finite as null.
  return JSON.stringify(leaf);
}

function jsonText(value: WireItem): string {
  if (value === null) return 'null';
  if (isTyped(value)) return `{"type":${JSON.stringify(value.xsdType)},"value":${jsonLeaf(value.value)}}`;
  if (!isObject(value)) return jsonLeaf(value);
  // A Map keeps first-seen key order and lets a later field of the same name win, as object keys would.
  const members = new Map<string, string>();
  if (value.xsiType) members.set('type', JSON.stringify(value.xsiType));
  for (const field of value.fields) {
    if ('value' in field) {
      if (field.value !== undefined) members.set(field.name, jsonText(field.value));
    } else if (field.items.length > 0) {
      members.set(field.wrapper ?? field.name, `[${field.items.map(jsonText).join(',')}]`);
    }
  }
  return `{${[...members].map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',')}}`;
}

/** MOXy with includeRoot: the object under its root name. */
export function toJson(rootName: string, root: WireObject): string {
  return `{${JSON.stringify(rootName)}:${jsonText(root)}}`;
}

/** MOXy writes a list as a bare array, each item under its own root name. */
export function toJsonList(itemName: string, items: readonly WireObject[]): string {
  return `[${items.map((item) => `{${JSON.stringify(itemName)}:${jsonText(item)}}`).join(',')}]`;
}
