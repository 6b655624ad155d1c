import { chooseMediaType } from './negotiate';

const XML = 'application/xml';
const JSON_ = 'application/json';

describe('chooseMediaType', () => {
  it.each([undefined, '', '   '])('answers XML when there is no Accept header (%p), as Lens did', (header) => {
    expect(chooseMediaType(header)).toBe(XML);
  });

  it.each([
    ['*/*', XML],
    ['application/*', XML],
    ['application/xml', XML],
    ['application/json', JSON_],
    ['APPLICATION/JSON', JSON_],
    ['application/json; charset=utf-8', JSON_],
    ['application/json;q=1.0', JSON_],
  ])('%s gives %s', (header, expected) => {
    expect(chooseMediaType(header)).toBe(expected);
  });

  it('follows q-values', () => {
    expect(chooseMediaType('application/xml;q=0.5, application/json')).toBe(JSON_);
    expect(chooseMediaType('application/json;q=0.4, application/xml;q=0.6')).toBe(XML);
    expect(chooseMediaType('application/json;q=0.9, */*;q=0.1')).toBe(JSON_);
    expect(chooseMediaType('application/*;q=0.2, application/json;q=0.3')).toBe(JSON_);
  });

  it('lets the most specific range decide a type\'s q', () => {
    // application/xml is excluded outright even though application/* would allow it.
    expect(chooseMediaType('application/*, application/xml;q=0')).toBe(JSON_);
    expect(chooseMediaType('*/*;q=0.1, application/json;q=0')).toBe(XML);
  });

  it('breaks ties by the order in the header, then towards XML', () => {
    expect(chooseMediaType('application/json, application/xml')).toBe(JSON_);
    expect(chooseMediaType('application/xml, application/json')).toBe(XML);
    expect(chooseMediaType('text/html, */*')).toBe(XML);
  });

  it('handles what browsers and Java send', () => {
    expect(chooseMediaType('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(XML);
    // HttpURLConnection's default header, with a bare "*" and q written as ".2".
    expect(chooseMediaType('text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2')).toBe(XML);
  });

  it('returns undefined when nothing offered is acceptable, so the caller answers 406', () => {
    expect(chooseMediaType('text/plain')).toBeUndefined();
    expect(chooseMediaType('text/*, image/png')).toBeUndefined();
    expect(chooseMediaType('application/xml;q=0, application/json;q=0')).toBeUndefined();
    expect(chooseMediaType('*/*;q=0')).toBeUndefined();
    expect(chooseMediaType('text/xml')).toBeUndefined();
  });

  it('skips malformed ranges instead of failing on them', () => {
    expect(chooseMediaType('garbage, application/json')).toBe(JSON_);
    expect(chooseMediaType('application/xml;q=2, application/json')).toBe(JSON_);
    expect(chooseMediaType('application/xml;q=abc, application/json;q=0.1')).toBe(JSON_);
    expect(chooseMediaType('*/json, application/json')).toBe(JSON_);
    expect(chooseMediaType('garbage')).toBeUndefined();
    expect(chooseMediaType(',,application/json,,')).toBe(JSON_);
  });
});
