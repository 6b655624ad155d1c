import type { WireMediaType } from './serialize';

/*
 * Lens's resources declare @Produces({APPLICATION_XML, APPLICATION_JSON, TEXT_PLAIN})
 * (lens-server/src/main/java/org/apache/lens/server/session/SessionResource.java), so Jersey
 * answers XML when the client has no preference. text/plain is left out here: Lens had no writer
 * for its types as text, so such a request could only fail.
 */

const OFFERED: readonly WireMediaType[] = ['application/xml', 'application/json'];

interface Range {
  type: string;
  subtype: string;
  q: number;
  /** Position in the header, for ties between equally preferred types. */
  order: number;
}

function parseRange(part: string, order: number): Range | undefined {
  const [mediaRange, ...params] = part.split(';');
  // A bare `*` is what Java's HttpURLConnection sends by default; it means */*.
  const name = mediaRange.trim().toLowerCase();
  const [type, subtype, extra] = (name === '*' ? '*/*' : name).split('/');
  if (!type || !subtype || extra !== undefined) return undefined;
  if (type === '*' && subtype !== '*') return undefined;
  let q = 1;
  for (const param of params) {
    const [key, value] = param.split('=').map((s) => s.trim());
    if (key.toLowerCase() !== 'q') continue;
    // Lenient about form (`q=.2` is common), strict about range.
    q = /^(\d+(\.\d*)?|\.\d+)$/.test(value ?? '') ? Number(value) : NaN;
    if (!(q >= 0 && q <= 1)) return undefined;
  }
  return { type, subtype, q, order };
}

// How closely a range names a type: exact beats type/*, which beats */*.
function specificity(range: Range, offered: string): number {
  const [type, subtype] = offered.split('/');
  if (range.type === type && range.subtype === subtype) return 3;
  if (range.type === type && range.subtype === '*') return 2;
  if (range.type === '*') return 1;
  return 0;
}

/**
 * Picks XML or JSON for an Accept header: XML when the header is absent or empty; otherwise the
 * offered type with the highest q (the most specific matching range decides each type's q), ties
 * going to the one the header names first, then to XML. undefined means nothing offered is
 * acceptable and the caller answers 406.
 */
export function chooseMediaType(acceptHeader: string | undefined): WireMediaType | undefined {
  if (acceptHeader === undefined || acceptHeader.trim() === '') return 'application/xml';
  const ranges = acceptHeader
    .split(',')
    .filter((part) => part.trim() !== '')
    .map(parseRange)
    .filter((r): r is Range => r !== undefined);

  let best: { type: WireMediaType; q: number; order: number } | undefined;
  for (const offered of OFFERED) {
    let match: Range | undefined;
    let matchSpecificity = 0;
    for (const range of ranges) {
      const s = specificity(range, offered);
      if (s > matchSpecificity) [match, matchSpecificity] = [range, s];
    }
    if (!match || match.q === 0) continue;
    const candidate = { type: offered, q: match.q, order: match.order };
    if (!best || candidate.q > best.q || (candidate.q === best.q && candidate.order < best.order)) best = candidate;
  }
  return best?.type;
}
