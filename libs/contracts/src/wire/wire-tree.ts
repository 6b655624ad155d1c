/*
 * One element tree rendered two ways, as Lens did: JAXB writes the XML and MOXy the JSON from the
 * same annotations (MOXy settings: lens-api/src/main/java/org/apache/lens/api/util/
 * MoxyJsonConfigurationContextResolver.java — root included, empty collections left out, a
 * wrapper element's name used as the JSON array's key).
 */

export type WireLeaf = string | number | boolean;

export interface WireObject {
  /** A subtype written as xsi:type in XML and as a leading `type` key in JSON. */
  xsiType?: string;
  fields: WireField[];
}

export type WireValue = WireLeaf | WireObject;

export type WireField =
  /** One element, left out when undefined (JAXB and MOXy skip nulls). */
  | { name: string; value: WireValue | undefined }
  /** One element per item; `wrapper` is an @XmlElementWrapper around them. Left out when empty. */
  | { name: string; items: readonly WireValue[]; wrapper?: string };

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

// Characters XML 1.0 cannot carry at all, not even as references.
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text and attribute values; characters XML cannot carry become U+FFFD so the document stays readable. */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function isObject(value: WireValue): value is WireObject {
  return typeof value === 'object';
}

function xmlElement(name: string, value: WireValue): string {
  if (!isObject(value)) return `<${name}>${escapeXml(String(value))}</${name}>`;
  const attrs = value.xsiType ? ` xsi:type="${escapeXml(value.xsiType)}" xmlns:xsi="${XSI}"` : '';
  const body = value.fields.map(xmlField).join('');
  return body === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${body}</${name}>`;
}

function xmlField(field: WireField): string {
  if ('value' in field) return field.value === undefined ? '' : xmlElement(field.name, field.value);
  if (field.items.length === 0) return '';
  const items = field.items.map((item) => xmlElement(field.name, item)).join('');
  return field.wrapper ? `<${field.wrapper}>${items}</${field.wrapper}>` : items;
}

/** A whole document: the declaration JAXB writes, then the root, on one line. */
export function toXml(rootName: string, root: WireObject): string {
  return XML_DECLARATION + xmlElement(rootName, root);
}

/** A list answer: Jersey writes the declaration, a plural root, then each item as its own root. */
export function toXmlList(listName: string, itemName: string, items: readonly WireObject[]): string {
  return `${XML_DECLARATION}<${listName}>${items.map((item) => xmlElement(itemName, item)).join('')}</${listName}>`;
}

type Json = string | number | boolean | Json[] | { [key: string]: Json };

function jsonValue(value: WireValue): Json {
  if (!isObject(value)) return value;
  const out: { [key: string]: Json } = {};
  if (value.xsiType) out['type'] = value.xsiType;
  for (const field of value.fields) {
    if ('value' in field) {
      if (field.value !== undefined) out[field.name] = jsonValue(field.value);
    } else if (field.items.length > 0) {
      out[field.wrapper ?? field.name] = field.items.map(jsonValue);
    }
  }
  return out;
}

/** MOXy with includeRoot: the object under its root name. */
export function toJson(rootName: string, root: WireObject): string {
  return JSON.stringify({ [rootName]: jsonValue(root) });
}

/** MOXy writes a list as a bare array, each item under its own root name. */
export function toJsonList(itemName: string, items: readonly WireObject[]): string {
  return JSON.stringify(items.map((item) => ({ [itemName]: jsonValue(item) })));
}
