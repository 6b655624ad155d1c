/*
 * Numbers as Lens's Java side printed them. JAXB (XML) and MOXy (JSON) both print a double with
 * Double.toString and infinities as XML Schema's INF and -INF (EclipseLink's
 * internal/oxm/XMLConversionManager.java); floats likewise with Float.toString. Java's form:
 * plain decimals with at least one fraction digit for 10^-3 <= |x| < 10^7 ("0.5", "1.0",
 * "1234567.0"), otherwise one digit, a fraction and an exponent ("1.0E7", "1.5E-4"), with the
 * fewest digits that identify the value.
 */

type Digits = { digits: string; exponent: number };

/** Significant digits (trailing zeros dropped) and the decimal exponent of the first, from toExponential's form. */
function digitsOf(exponential: string): Digits {
  const [mantissa, exponent] = exponential.split('e');
  return { digits: mantissa.replace('.', '').replace(/0+$/, '') || '0', exponent: Number(exponent) };
}

/**
 * Java prints at least two digits (d.d), and among two-digit decimals it takes the one nearest the
 * value: so when one digit would do, the correctly rounded two-digit form is used if it reads back
 * the same (Float.MIN_VALUE is "1.4E-45", not "1.0E-45").
 */
function atLeastTwo(abs: number, shortest: string, readsBack: (text: string) => boolean): Digits {
  const two = abs.toExponential(1);
  return digitsOf(digitsOf(shortest).digits.length === 1 && readsBack(two) ? two : shortest);
}

function javaForm(negative: boolean, abs: number, { digits, exponent }: Digits): string {
  const sign = negative ? '-' : '';
  if (abs >= 1e-3 && abs < 1e7) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${exponent}`;
}

function special(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'INF';
  if (value === -Infinity) return '-INF';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  return undefined;
}

/** A double as Lens wrote it: `1.0`, `0.25`, `1.0E10`, `NaN`, `INF`. */
export function javaDoubleText(value: number): string {
  const s = special(value);
  if (s !== undefined) return s;
  const abs = Math.abs(value);
  // toExponential() without an argument gives the fewest digits that read back as the same double.
  return javaForm(value < 0, abs, atLeastTwo(abs, abs.toExponential(), (text) => Number(text) === abs));
}

/** A float (the value is first rounded to 32 bits) as Java's Float.toString wrote it: `0.1`, `3.4028235E38`. */
export function javaFloatText(value: number): string {
  const f = Math.fround(value);
  const s = special(f);
  if (s !== undefined) return s;
  const abs = Math.abs(f);
  const readsBack = (text: string) => Math.fround(Number(text)) === abs;
  // Nine significant digits always identify a float; look for fewer.
  let shortest = abs.toExponential(8);
  for (let precision = 1; precision < 9; precision++) {
    const candidate = abs.toExponential(precision - 1);
    if (readsBack(candidate)) {
      shortest = candidate;
      break;
    }
  }
  return javaForm(f < 0, abs, atLeastTwo(abs, shortest, readsBack));
}

/** A whole number in plain digits, exact for bigint and for any integral double (no `1e+21`). */
export function integerText(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  // Plain digits already; BigInt is only needed for the 1e21 and up String() would write with an exponent.
  if (Number.isSafeInteger(value)) return String(value);
  if (!Number.isInteger(value)) throw new RangeError(`${value} is not a whole number`);
  return BigInt(value).toString();
}
