import { integerText, javaDoubleText, javaFloatText } from './java-number';

describe('javaDoubleText: Double.toString as JAXB and MOXy printed it', () => {
  it.each([
    [0, '0.0'],
    [-0, '-0.0'],
    [1, '1.0'],
    [0.5, '0.5'],
    [-2.5, '-2.5'],
    [100, '100.0'],
    [1234567.5, '1234567.5'],
    [9999999, '9999999.0'],
    [0.001, '0.001'],
    [0.30000000000000004, '0.30000000000000004'],
  ])('writes %p plainly as %s between 10^-3 and 10^7', (value, text) => {
    expect(javaDoubleText(value)).toBe(text);
  });

  it.each([
    [1e7, '1.0E7'],
    [12345678, '1.2345678E7'],
    [123456789012, '1.23456789012E11'],
    [0.000999, '9.99E-4'],
    [1.5e-4, '1.5E-4'],
    [-3e-10, '-3.0E-10'],
    [1e21, '1.0E21'],
    [1e23, '1.0E23'],
    [Number.MAX_VALUE, '1.7976931348623157E308'],
    [Number.MIN_VALUE, '4.9E-324'],
  ])('writes %p in scientific form as %s outside that range', (value, text) => {
    expect(javaDoubleText(value)).toBe(text);
  });

  it('writes the XML Schema names for values that are not finite', () => {
    expect(javaDoubleText(NaN)).toBe('NaN');
    expect(javaDoubleText(Infinity)).toBe('INF');
    expect(javaDoubleText(-Infinity)).toBe('-INF');
  });

  it('reads back to the same double', () => {
    for (const value of [Math.PI, 1 / 3, 2 / 3, 1e-300, 123.456, 6.02214076e23, 0.1 + 0.7]) {
      expect(Number(javaDoubleText(value))).toBe(value);
    }
  });
});

describe('javaFloatText: Float.toString', () => {
  it.each([
    [0.1, '0.1'],
    [0.3, '0.3'],
    [1 / 3, '0.33333334'],
    [1, '1.0'],
    [16777216, '1.6777216E7'],
    [3.4028234663852886e38, '3.4028235E38'],
    [1.401298464324817e-45, '1.4E-45'],
    [-0.25, '-0.25'],
  ])('writes %p as %s', (value, text) => {
    expect(javaFloatText(value)).toBe(text);
  });

  it('rounds to 32 bits first and reads back to the same float', () => {
    for (const value of [Math.PI, 0.7, 123.456, 1e-20]) {
      const text = javaFloatText(value);
      expect(Math.fround(Number(text))).toBe(Math.fround(value));
    }
    expect(javaFloatText(Math.PI)).toBe('3.1415927');
  });

  it('writes NaN, INF and -INF, and a float overflow as INF', () => {
    expect(javaFloatText(NaN)).toBe('NaN');
    expect(javaFloatText(1e39)).toBe('INF');
    expect(javaFloatText(-Infinity)).toBe('-INF');
  });
});

describe('integerText', () => {
  it('writes whole numbers in plain digits, never in exponent form', () => {
    expect(integerText(42)).toBe('42');
    expect(integerText(-7)).toBe('-7');
    expect(integerText(-0)).toBe('0');
    expect(integerText(1e21)).toBe('1000000000000000000000');
  });

  it('keeps a bigint exact past 2^53', () => {
    expect(integerText(9223372036854775807n)).toBe('9223372036854775807');
    expect(integerText(-9007199254740993n)).toBe('-9007199254740993');
  });

  it('refuses a number that is not whole', () => {
    expect(() => integerText(1.5)).toThrow(RangeError);
    expect(() => integerText(NaN)).toThrow(RangeError);
    expect(() => integerText(Infinity)).toThrow(RangeError);
  });
});
