/**
 * RFC 3339 datetimes as UTC microseconds and back: which text form of a
 * timestamp column (`auto`, `ms`, `us`) gives every value back exactly.
 *
 * @module
 */

/** How a timestamp column is written back as text. */
export type DatetimeFormat = "auto" | "ms" | "us";
const FORMATS = ["auto", "ms", "us"] as const;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * The instant of any RFC 3339 datetime (`T` or `t` or a space between date
 * and time, `Z`, `z` or a `±HH:MM` offset, any number of fraction digits) in
 * microseconds since the epoch, digits below a microsecond dropped; outside
 * 1685–2255 the microseconds are a double's nearest (not a safe integer).
 *
 * @param text The text.
 * @returns Microseconds, or undefined when it is not such a datetime.
 */
export function instantMicros(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  const hour = +m[4]!;
  const minute = +m[5]!;
  const second = +m[6]!;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (
    month < 1 || month > 12 || day < 1 ||
    day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!) || hour > 23 || minute > 59 ||
    second > 60
  ) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC takes years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  let ms = date.getTime();
  if (m[8] !== undefined) {
    const hours = +m[9]!;
    const minutes = +m[10]!;
    if (hours > 23 || minutes > 59) return undefined;
    ms -= (m[8] === "-" ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  const us = ms * 1000 + Number((m[7] ?? "").padEnd(6, "0").slice(0, 6));
  return Number.isFinite(us) ? us : undefined;
}

/**
 * Parses an RFC 3339 UTC datetime (`...Z`) into microseconds since the epoch.
 *
 * @example
 * ```ts
 * import { parseDatetimeMicros } from "./datetime.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseDatetimeMicros("1970-01-01T00:00:01.5Z"), 1_500_000);
 * equal(parseDatetimeMicros("1970-01-01T02:00:00+02:00"), undefined);
 * ```
 *
 * @param text The text.
 * @returns Microseconds, or undefined when it is not such a datetime, has
 *   sub-microsecond digits or is outside the safe integers (1685–2255).
 */
export function parseDatetimeMicros(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m || text.charCodeAt(text.length - 1) !== 90 /* Z */ || text.charCodeAt(10) !== 84) {
    return undefined;
  }
  if (m[7] !== undefined && (m[7].length > 9 || !/^0*$/.test(m[7].slice(6)))) return undefined;
  const us = instantMicros(text);
  return us !== undefined && Number.isSafeInteger(us) ? us : undefined;
}

/**
 * Formats microseconds since the epoch as RFC 3339 UTC text.
 *
 * @example
 * ```ts
 * import { formatDatetimeMicros } from "./datetime.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatDatetimeMicros(1_500_000, "auto"), "1970-01-01T00:00:01.500000Z");
 * equal(formatDatetimeMicros(1_000_000, "auto"), "1970-01-01T00:00:01Z");
 * equal(formatDatetimeMicros(1_500_000, "ms"), "1970-01-01T00:00:01.500Z");
 * ```
 *
 * @param us Microseconds.
 * @param fmt `auto`: no fraction on whole seconds, else 6 digits (as pystac);
 *   `ms`: always 3 digits; `us`: always 6 digits.
 * @returns The text.
 */
export function formatDatetimeMicros(us: number, fmt: DatetimeFormat): string {
  const ms = Math.floor(us / 1000);
  const sub = us - ms * 1000;
  const iso = new Date(ms).toISOString();
  if (fmt === "ms" && sub === 0) return iso;
  if (fmt === "auto" && us % 1_000_000 === 0) return iso.slice(0, 19) + "Z";
  return iso.slice(0, 23) + String(sub).padStart(3, "0") + "Z";
}

/**
 * The microseconds of a datetime text when a timestamp column of text
 * format `fmt` gives back exactly this text.
 *
 * @example
 * ```ts
 * import { datetimeFits } from "./datetime.ts";
 * import { equal } from "node:assert/strict";
 * equal(datetimeFits("1970-01-01T00:00:01Z", "auto"), 1_000_000);
 * equal(datetimeFits("1970-01-01T00:00:01Z", "ms"), undefined);
 * ```
 *
 * @param v The text.
 * @param fmt The column's text format.
 * @returns Microseconds, or undefined when the text would not come back as it is.
 */
export function datetimeFits(v: string, fmt: DatetimeFormat): number | undefined {
  const quick = quickDatetimeFits(v, fmt);
  if (quick !== undefined) return quick;
  const us = parseDatetimeMicros(v);
  return us !== undefined && formatDatetimeMicros(us, fmt) === v ? us : undefined;
}

/** `text.slice(at, at + count)` as a number when all digits, else -1. */
function digitsAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Which text formats give back a datetime text exactly: bit 0 `auto`, bit 1
 * `ms`, bit 2 `us` (0 for none).
 */
function formatsGivingBack(v: string): number {
  // The usual texts: told apart by their length (as in quickDatetimeFits).
  if (quickDatetimeFits(v, "us") !== undefined) {
    const frac = digitsAt(v, 20, 6);
    return 4 | (frac !== 0 ? 1 : 0) | (frac % 1000 !== 0 ? 2 : 0);
  }
  if (v.length === 20 && quickDatetimeFits(v, "auto") !== undefined) return 1;
  if (v.length === 24 && quickDatetimeFits(v, "ms") !== undefined) return 2;
  const us = parseDatetimeMicros(v);
  if (us === undefined) return 0;
  let mask = 0;
  for (let f = 0; f < FORMATS.length; f++) {
    if (formatDatetimeMicros(us, FORMATS[f]!) === v) mask |= 1 << f;
  }
  return mask;
}

/**
 * {@linkcode datetimeFits} without a regex or a `Date` for the usual
 * `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z` (years 1000–9999): the microseconds
 * when the text certainly round-trips in `fmt`, else undefined (then the
 * general check decides).
 */
function quickDatetimeFits(v: string, fmt: DatetimeFormat): number | undefined {
  const len = v.length;
  if (
    (len !== 20 && len !== 24 && len !== 27) || v.charCodeAt(len - 1) !== 90 /* Z */ ||
    v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84 ||
    v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58
  ) return undefined;
  const year = digitsAt(v, 0, 4);
  const month = digitsAt(v, 5, 2);
  const day = digitsAt(v, 8, 2);
  const hour = digitsAt(v, 11, 2);
  const minute = digitsAt(v, 14, 2);
  const second = digitsAt(v, 17, 2);
  if (
    year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
    minute < 0 || minute > 59 || second < 0 || second > 59
  ) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  let frac = 0;
  if (len !== 20) {
    if (v.charCodeAt(19) !== 46 /* . */) return undefined;
    frac = digitsAt(v, 20, len - 21);
    if (frac < 0) return undefined;
  }
  // Which texts formatDatetimeMicros gives back, per format.
  if (fmt === "auto" && !(len === 20 || (len === 27 && frac !== 0))) return undefined;
  if (fmt === "ms" && !(len === 24 || (len === 27 && frac % 1000 !== 0))) return undefined;
  if (fmt === "us" && len !== 27) return undefined;
  const us = Date.UTC(year, month - 1, day, hour, minute, second) * 1000 +
    (len === 24 ? frac * 1000 : frac);
  return Number.isSafeInteger(us) ? us : undefined;
}

/** What a {@linkcode DatetimeFormatChooser} saw, as plain data. */
export interface PlainDatetimeChooser {
  /** Per format (`auto`, `ms`, `us`), whether it gave back every value. */
  givesBackAll: boolean[];
  /** Per format, how many values it gave back. */
  givenBack: number[];
  /** Whether every value was an RFC 3339 datetime. */
  allInstants: boolean;
}

/**
 * Chooses the text format of a timestamp column one value at a time: the
 * first format that gives back every text; else, when every value is an RFC
 * 3339 datetime (with an offset, 1–9 fraction digits, a year outside
 * 1685–2255, ...), the one that gives back the most (the column holds each
 * instant, the overflow the texts it does not give back); else none (a text
 * column).
 *
 * @example
 * ```ts
 * import { DatetimeFormatChooser } from "./datetime.ts";
 * import { equal } from "node:assert/strict";
 * const chooser = new DatetimeFormatChooser();
 * chooser.add("2020-01-01T00:00:00.100Z");
 * chooser.add("2020-01-01T00:00:01.000Z");
 * equal(chooser.format(), "ms");
 * equal(chooser.givesBackAll("ms"), true);
 * chooser.add("2020-01-01T00:00:02Z");
 * equal(chooser.givesBackAll("ms"), false);
 * ```
 */
export class DatetimeFormatChooser {
  /** Per format, whether it gave back every value so far. */
  readonly #givesBackAll = [true, true, true];
  /** Per format, how many values it gave back. */
  readonly #givenBack = [0, 0, 0];
  #allInstants = true;

  /**
   * Takes one value into account (null and undefined do not count).
   *
   * @param v A property value.
   */
  add(v: unknown): void {
    if (v === null || v === undefined) return;
    if (typeof v !== "string") {
      this.#givesBackAll.fill(false);
      this.#allInstants = false;
      return;
    }
    const formats = formatsGivingBack(v);
    for (let f = 0; f < FORMATS.length; f++) {
      if ((formats & (1 << f)) !== 0) this.#givenBack[f]!++;
      else this.#givesBackAll[f] = false;
    }
    if (formats === 0 && instantMicros(v) === undefined) this.#allInstants = false;
  }

  /**
   * The format chosen for the values so far.
   *
   * @returns The format, or undefined when they are not all datetimes.
   */
  format(): DatetimeFormat | undefined {
    const all = this.#givesBackAll.indexOf(true);
    if (all >= 0) return FORMATS[all];
    if (!this.#allInstants) return undefined;
    return FORMATS[this.#givenBack.indexOf(Math.max(...this.#givenBack))];
  }

  /**
   * Takes what another chooser saw into account (as if its values came after these).
   *
   * @param other The other chooser, or its {@linkcode DatetimeFormatChooser.toPlain} data.
   */
  merge(other: DatetimeFormatChooser | PlainDatetimeChooser): void {
    const plain = other instanceof DatetimeFormatChooser ? other.toPlain() : other;
    for (let f = 0; f < FORMATS.length; f++) {
      this.#givesBackAll[f] = this.#givesBackAll[f]! && plain.givesBackAll[f]!;
      this.#givenBack[f]! += plain.givenBack[f]!;
    }
    this.#allInstants = this.#allInstants && plain.allInstants;
  }

  /**
   * What the chooser saw, as plain data (to pass it between threads).
   *
   * @returns Plain data.
   */
  toPlain(): PlainDatetimeChooser {
    return {
      givesBackAll: [...this.#givesBackAll],
      givenBack: [...this.#givenBack],
      allInstants: this.#allInstants,
    };
  }

  /**
   * Whether a format gave back every value's exact text.
   *
   * @param format The format.
   * @returns True when no value needs to be kept elsewhere.
   */
  givesBackAll(format: DatetimeFormat): boolean {
    return this.#givesBackAll[FORMATS.indexOf(format)]!;
  }
}

/**
 * The text format of a timestamp column for these values (see
 * {@linkcode DatetimeFormatChooser}).
 *
 * @param values The values.
 * @returns The format, or undefined for a text column.
 */
export function chooseDatetimeFormat(values: unknown[]): DatetimeFormat | undefined {
  const chooser = new DatetimeFormatChooser();
  for (const v of values) chooser.add(v);
  return chooser.format();
}
