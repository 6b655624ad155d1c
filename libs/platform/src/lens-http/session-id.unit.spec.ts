import { randomUUID } from 'node:crypto';
import { LensError, parseSessionHandle } from '@quarry/contracts';
import { sessionIdFrom } from './session-id';

const xmlHandle = (publicId = randomUUID(), secretId = randomUUID()) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><lensSessionHandle><publicId>${publicId}</publicId><secretId>${secretId}</secretId></lensSessionHandle>`;

const refusal = (raw: unknown) => {
  try {
    sessionIdFrom(raw);
  } catch (error) {
    if (error instanceof LensError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`expected ${String(raw)} to be refused`);
};

describe('sessionIdFrom', () => {
  it('answers what parsing answers, for the XML and the JSON forms, the first time and again', () => {
    const publicId = randomUUID();
    const secretId = randomUUID();
    for (const raw of [xmlHandle(publicId, secretId), JSON.stringify({ lensSessionHandle: { publicId, secretId } }), `  ${xmlHandle(publicId.toUpperCase(), secretId)}\n`]) {
      const parsed = parseSessionHandle(raw);
      expect(parsed).toEqual({ ok: true, handle: { publicId, secretId } });
      expect(sessionIdFrom(raw)).toEqual({ publicId, secretId });
      expect(sessionIdFrom(raw)).toEqual({ publicId, secretId });
    }
  });

  it('reads an id sent again from the recent ones: the same handle, which nobody can change', () => {
    const raw = xmlHandle();
    const first = sessionIdFrom(raw);
    expect(sessionIdFrom(raw)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => Object.assign(first, { publicId: randomUUID() })).toThrow(TypeError);
  });

  it('refuses a bad id with its reason every time (refusals are not kept)', () => {
    const bad = '<lensSessionHandle><publicId>not-a-uuid</publicId><secretId>x</secretId></lensSessionHandle>';
    const first = refusal(bad);
    expect(first.code).toBe(2001);
    expect(first.message).toMatch(/^sessionid cannot be read: /);
    expect(refusal(bad)).toEqual(first);
    expect(refusal(undefined)).toEqual({ code: 2001, message: 'sessionid is missing' });
    expect(refusal(['a', 'b'])).toEqual({ code: 2001, message: 'sessionid must be given once, as text' });
  });

  it('keeps only short ids: a padded one is parsed each time, with the same answer', () => {
    const padded = xmlHandle().replace('<lensSessionHandle>', `<lensSessionHandle>${' '.repeat(600)}`);
    const first = sessionIdFrom(padded);
    const again = sessionIdFrom(padded);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  it('keeps the 1024 most recently used ids, dropping the least recently used', () => {
    const kept = xmlHandle();
    const keptHandle = sessionIdFrom(kept);
    const dropped = xmlHandle();
    const droppedHandle = sessionIdFrom(dropped);
    for (let i = 0; i < 1022; i++) sessionIdFrom(xmlHandle());
    expect(sessionIdFrom(kept)).toBe(keptHandle); // used again: now the most recent
    sessionIdFrom(xmlHandle()); // the 1025th id: the least recently used one goes
    expect(sessionIdFrom(kept)).toBe(keptHandle);
    const reread = sessionIdFrom(dropped);
    expect(reread).toEqual(droppedHandle);
    expect(reread).not.toBe(droppedHandle);
  });
});
