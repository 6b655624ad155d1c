/**
 * An engine's timestamp text (`2024-02-03 04:05:06.789`, with `+00` or `+05:30` when it has a
 * zone) as ISO 8601, keeping every fractional digit; `infinity` and the like pass unchanged.
 */
export function isoTimestamp(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::?\d\d)?)?$/.exec(text);
  if (!match) return text;
  const [, date, time, zone] = match;
  if (!zone) return `${date}T${time}`;
  const offset = zone.length === 3 ? `${zone}:00` : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  return `${date}T${time}${offset === '+00:00' ? 'Z' : offset}`;
}

/** Numbers JSON can carry stay numbers; NaN and the infinities keep the engine's text. */
export function jsonNumber(text: string): number | string {
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}
