/**
 * The buffers of one Arrow record batch being built, and the appenders that
 * fill them from either a parsed JSON value or the bytes of one (an NDJSON
 * line read without `JSON.parse`). Both ways write the same buffers, so rows
 * of either kind can follow each other; an item read from bytes that turns
 * out not to fit is cut back with {@linkcode Checkpoint} and parsed instead.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { datetimeFits, type DatetimeFormat } from "./datetime.ts";
import {
  asciiText,
  decodeString,
  isNull,
  numberValue,
  PLAIN_ASCII,
  plainKeyIndex,
  scanNumber,
  scanString,
  skipValue,
  skipWhitespace,
  stringFlags,
} from "./json_scan.ts";
import { INT_LAYOUT, STRING_LAYOUT, type ValueLayout } from "./value_layout.ts";

/** A buffer that can be cut back to an earlier length. */
interface Part {
  readonly length: number;
  truncate(length: number): void;
}

/**
 * Every buffer of one batch, so that a partly read row can be undone: save
 * before the row, restore when it is abandoned.
 */
export class Checkpoint {
  readonly #parts: Part[] = [];
  #saved = new Int32Array(0);

  /** Registers a buffer (done by its constructor). */
  add(part: Part): void {
    this.#parts.push(part);
  }

  /** Remembers the length of every buffer. */
  save(): void {
    const parts = this.#parts;
    if (this.#saved.length !== parts.length) this.#saved = new Int32Array(parts.length);
    const saved = this.#saved;
    for (let k = 0; k < parts.length; k++) saved[k] = parts[k]!.length;
  }

  /** Cuts every buffer back to its saved length. */
  restore(): void {
    const parts = this.#parts;
    const saved = this.#saved;
    for (let k = 0; k < parts.length; k++) {
      if (parts[k]!.length !== saved[k]) parts[k]!.truncate(saved[k]!);
    }
  }
}

/** A validity (or boolean) bitmap built one value at a time. */
export class Validity implements Part {
  bytes = new Uint8Array(64);
  length = 0;
  nulls = 0;

  constructor(checkpoint: Checkpoint) {
    checkpoint.add(this);
  }

  push(valid: boolean): void {
    const i = this.length++;
    if ((i >> 3) >= this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    if (valid) this.bytes[i >> 3]! |= 1 << (i & 7);
    else this.nulls++;
  }

  truncate(length: number): void {
    for (let i = length; i < this.length; i++) {
      const bit = 1 << (i & 7);
      if ((this.bytes[i >> 3]! & bit) === 0) this.nulls--;
      else this.bytes[i >> 3]! &= ~bit;
    }
    this.length = length;
  }

  /** The `makeData` fields of this validity. */
  fields(): { length: number; nullCount: number; nullBitmap: Uint8Array | undefined } {
    return {
      length: this.length,
      nullCount: this.nulls,
      nullBitmap: this.nulls > 0 ? this.bytes.subarray(0, (this.length + 7) >> 3) : undefined,
    };
  }
}

/** Doubles (also safe integers and microseconds) one at a time. */
export class Numbers implements Part {
  values = new Float64Array(256);
  length = 0;

  constructor(checkpoint: Checkpoint) {
    checkpoint.add(this);
  }

  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }

  truncate(length: number): void {
    this.length = length;
  }

  /** The values as doubles. */
  float64(): Float64Array {
    return this.values.slice(0, this.length);
  }

  /** The values (safe integers) as int64. */
  int64(): BigInt64Array {
    const data = new BigInt64Array(this.length);
    const words = new Int32Array(data.buffer);
    for (let i = 0; i < this.length; i++) setInt64(words, i, this.values[i]!);
    return data;
  }
}

/** List offsets: one count pushed per row, starting from 0. */
export class Offsets implements Part {
  values = new Int32Array(256);
  /** Rows (offsets minus one). */
  length = 0;

  constructor(checkpoint: Checkpoint) {
    checkpoint.add(this);
  }

  push(end: number): void {
    if (this.length + 1 === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[++this.length] = end;
  }

  truncate(length: number): void {
    this.length = length;
  }

  finish(): Int32Array {
    return this.values.slice(0, this.length + 1);
  }
}

const textEncoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * The offsets and bytes of a string or binary column. Strings (of parsed
 * JSON) are held and encoded a few thousand at a time, so that they die young;
 * bytes (of an NDJSON line) are copied in directly.
 */
export class ByteValues implements Part {
  static readonly FLUSH = 2048;
  #texts: string[] = [];
  #bytes = new Uint8Array(1024);
  #size = 0;
  #offsets = new Int32Array(256);
  #flushed = 0;
  /** Values pushed (flushed or not). */
  length = 0;

  constructor(checkpoint: Checkpoint) {
    checkpoint.add(this);
  }

  pushText(text: string): void {
    if (text === "" && this.#texts.length === 0) {
      this.#pushOffset(this.#size);
      this.length++;
      return;
    }
    this.#texts.push(text);
    this.length++;
    if (this.#texts.length === ByteValues.FLUSH) this.#flush();
  }

  pushBytes(b: Uint8Array, start: number, end: number): void {
    if (this.#texts.length > 0) this.#flush();
    const n = end - start;
    if (this.#size + n > this.#bytes.length) this.#reserve(n);
    const bytes = this.#bytes;
    const size = this.#size;
    // A loop beats creating a subarray for the usual short strings.
    if (n < 64) { for (let k = 0; k < n; k++) bytes[size + k] = b[start + k]!; }
    else bytes.set(b.subarray(start, end), size);
    this.#size = size + n;
    this.#pushOffset(this.#size);
    this.length++;
  }

  /**
   * Copies the JSON string at `b[i]` in while scanning it, when it is
   * printable ASCII without escapes (the usual case): the index after it,
   * else -1 with nothing added (then scan and decode it).
   */
  readAsciiString(b: Uint8Array, i: number): number {
    if (this.#texts.length > 0) this.#flush();
    const room = b.length - i;
    if (this.#size + room > this.#bytes.length) this.#reserve(room);
    const bytes = this.#bytes;
    const start = this.#size;
    let o = start;
    let j = i + 1;
    let c = b[j]!;
    while (PLAIN_ASCII[c] === 1) {
      bytes[o++] = c;
      c = b[++j]!;
    }
    if (c !== 0x22) return -1;
    this.#size = o;
    this.#pushOffset(o);
    this.length++;
    return j + 1;
  }

  truncate(length: number): void {
    this.#flush();
    this.#flushed = length;
    this.#size = this.#offsets[length]!;
    this.length = length;
  }

  #reserve(n: number): void {
    if (this.#size + n > this.#bytes.byteLength) {
      const grown = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#size + n));
      grown.set(this.#bytes.subarray(0, this.#size));
      this.#bytes = grown;
    }
  }

  #pushOffset(end: number): void {
    if (this.#flushed + 1 === this.#offsets.length) {
      const grown = new Int32Array(this.#offsets.length * 2);
      grown.set(this.#offsets);
      this.#offsets = grown;
    }
    this.#offsets[++this.#flushed] = end;
  }

  #flush(): void {
    const texts = this.#texts;
    if (texts.length === 0) return;
    this.#texts = [];
    const { offsets, bytes } = encodeTexts(texts);
    this.#reserve(bytes.byteLength);
    this.#bytes.set(bytes, this.#size);
    for (let i = 1; i < offsets.length; i++) this.#pushOffset(this.#size + offsets[i]!);
    this.#size += bytes.byteLength;
  }

  finish(): { offsets: Int32Array; bytes: Uint8Array } {
    this.#flush();
    if (this.#size > 0x7fffffff) {
      throw new RangeError(
        `A string column of ${this.length} values is too large for one batch: ${this.#size} bytes (at most 2 GiB; use smaller batches)`,
      );
    }
    return {
      offsets: this.#offsets.slice(0, this.#flushed + 1),
      bytes: this.#bytes.subarray(0, this.#size),
    };
  }
}

/**
 * UTF-8 offsets and bytes of strings. ASCII strings, the usual case, take one
 * `encodeInto` for all.
 */
function encodeTexts(texts: readonly string[]): { offsets: Int32Array; bytes: Uint8Array } {
  const n = texts.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += texts[i]!.length;
  const offsets = new Int32Array(n + 1);
  const joined = texts.join("");
  const ascii = new Uint8Array(total);
  const done = textEncoder.encodeInto(joined, ascii);
  if (done.read === joined.length && done.written === total) {
    let o = 0;
    for (let i = 0; i < n; i++) offsets[i + 1] = o += texts[i]!.length;
    return { offsets, bytes: ascii };
  }
  let bytes = new Uint8Array(Math.max(64, total * 3));
  let o = 0;
  for (let i = 0; i < n; i++) {
    const text = texts[i]!;
    if (text !== "") {
      const max = text.length * 3;
      if (o + max > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, o + max));
        grown.set(bytes.subarray(0, o));
        bytes = grown;
      }
      o += textEncoder.encodeInto(text, bytes.subarray(o)).written;
    }
    offsets[i + 1] = o;
  }
  return { offsets, bytes: bytes.subarray(0, o) };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes safe integer `v` as the `i`-th int64 of `words` (no BigInt). */
function setInt64(words: Int32Array, i: number, v: number): void {
  const high = Math.floor(v / 4294967296);
  const low = v - high * 4294967296;
  if (LITTLE_ENDIAN) {
    words[2 * i] = low | 0;
    words[2 * i + 1] = high | 0;
  } else {
    new DataView(words.buffer).setBigInt64(i * 8, BigInt(v), false);
  }
}

/**
 * Takes the values of one layout into Arrow buffers: `append` a parsed value
 * that fits the layout, `read` the JSON bytes of one (-1 when they do not
 * fit: the caller restores its {@linkcode Checkpoint}).
 */
export interface Appender {
  append(v: unknown): void;
  appendNull(): void;
  /** Reads the value starting at `b[i]` (not whitespace); returns the index after it or -1. */
  read(b: Uint8Array, i: number): number;
  finish(): arrow.Data;
}

/**
 * The appender of a layout, writing into buffers registered with `checkpoint`.
 *
 * @param layout The layout.
 * @param type Its Arrow type.
 * @param checkpoint Where its buffers register.
 * @returns The appender.
 */
export function appenderFor(
  layout: ValueLayout,
  type: arrow.DataType,
  checkpoint: Checkpoint,
): Appender {
  switch (layout.kind) {
    case "null":
      return new NullAppender(checkpoint);
    case "string":
      return new StringAppender(type as arrow.Utf8, false, checkpoint);
    case "json":
      return new StringAppender(type as arrow.Utf8, true, checkpoint);
    case "float":
    case "int":
      return new NumberAppender(
        type as arrow.Float64 | arrow.Int64,
        layout.kind === "int",
        checkpoint,
      );
    case "timestamp":
      return new TimestampAppender(layout.format, checkpoint);
    case "bool":
      return new BoolAppender(type as arrow.Bool, checkpoint);
    case "list":
      return new ListAppender(layout, type as arrow.List, checkpoint);
    case "struct":
      return new StructAppender(layout, type as arrow.Struct, checkpoint);
  }
}

/**
 * The appender of a string or int64 column in the layout descriptions of
 * before `ValueLayout`.
 *
 * @deprecated Use {@linkcode appenderFor}; kept for `lib/lock/arrow.ts` until it moves.
 * @param legacy `{ k: "str" }` or `{ k: "int" }`.
 * @param type Its Arrow type.
 * @param checkpoint Where its buffers register.
 * @returns The appender.
 */
export function appenderOf(
  legacy: { k: "str" | "int"; conv: boolean },
  type: arrow.DataType,
  checkpoint: Checkpoint,
): Appender {
  return appenderFor(legacy.k === "int" ? INT_LAYOUT : STRING_LAYOUT, type, checkpoint);
}

/** A column of Arrow's `null` type: nothing but a count. */
class NullAppender implements Appender, Part {
  length = 0;

  constructor(checkpoint: Checkpoint) {
    checkpoint.add(this);
  }

  append(v: unknown): void {
    if (v !== null && v !== undefined) {
      throw new TypeError(`A column of nulls cannot hold ${JSON.stringify(v)}`);
    }
    this.length++;
  }

  appendNull(): void {
    this.length++;
  }

  read(b: Uint8Array, i: number): number {
    if (!isNull(b, i)) return -1;
    this.length++;
    return i + 4;
  }

  truncate(length: number): void {
    this.length = length;
  }

  finish(): arrow.Data {
    return arrow.makeData({ type: new arrow.Null(), length: this.length, nullCount: this.length });
  }
}

class StringAppender implements Appender {
  readonly #valid: Validity;
  readonly #out: ByteValues;

  constructor(readonly type: arrow.Utf8, readonly json: boolean, checkpoint: Checkpoint) {
    this.#valid = new Validity(checkpoint);
    this.#out = new ByteValues(checkpoint);
  }

  append(v: unknown): void {
    if (v === null || v === undefined) this.appendNull();
    else {
      this.#valid.push(true);
      this.#out.pushText(this.json ? JSON.stringify(v) : v as string);
    }
  }

  appendNull(): void {
    this.#valid.push(false);
    this.#out.pushText("");
  }

  read(b: Uint8Array, i: number): number {
    if (isNull(b, i)) {
      this.appendNull();
      return i + 4;
    }
    if (this.json) {
      const end = skipValue(b, i);
      if (end < 0) return -1;
      let value: unknown;
      try {
        value = JSON.parse(utf8Decoder.decode(b.subarray(i, end)));
      } catch {
        return -1;
      }
      this.#valid.push(true);
      this.#out.pushText(JSON.stringify(value));
      return end;
    }
    if (b[i] !== 0x22) return -1;
    let end = this.#out.readAsciiString(b, i);
    if (end < 0) {
      end = scanString(b, i);
      if (end < 0) return -1;
      const text = decodeString(b, i, end);
      if (text === undefined) return -1;
      this.#out.pushText(text);
    }
    this.#valid.push(true);
    return end;
  }

  finish(): arrow.Data {
    const { offsets, bytes } = this.#out.finish();
    return arrow.makeData({
      ...this.#valid.fields(),
      type: this.type,
      valueOffsets: offsets,
      data: bytes,
    });
  }
}

class NumberAppender implements Appender {
  readonly #valid: Validity;
  readonly #values: Numbers;

  constructor(
    readonly type: arrow.Float64 | arrow.Int64,
    readonly integer: boolean,
    checkpoint: Checkpoint,
  ) {
    this.#valid = new Validity(checkpoint);
    this.#values = new Numbers(checkpoint);
  }

  append(v: unknown): void {
    if (v === null || v === undefined) this.appendNull();
    else {
      this.#valid.push(true);
      this.#values.push(v as number);
    }
  }

  appendNull(): void {
    this.#valid.push(false);
    this.#values.push(0);
  }

  read(b: Uint8Array, i: number): number {
    if (isNull(b, i)) {
      this.appendNull();
      return i + 4;
    }
    const end = scanNumber(b, i);
    if (end < 0 || (this.integer && !Number.isSafeInteger(numberValue))) return -1;
    this.#valid.push(true);
    this.#values.push(numberValue);
    return end;
  }

  finish(): arrow.Data {
    const fields = this.#valid.fields();
    return this.integer
      ? arrow.makeData({ ...fields, type: this.type as arrow.Int64, data: this.#values.int64() })
      : arrow.makeData({
        ...fields,
        type: this.type as arrow.Float64,
        data: this.#values.float64(),
      });
  }
}

/**
 * A timestamp column: values that its text format gives back exactly (a
 * value that does not is for the caller to keep elsewhere).
 */
export class TimestampAppender implements Appender {
  readonly valid: Validity;
  readonly values: Numbers;

  constructor(readonly format: DatetimeFormat, checkpoint: Checkpoint) {
    this.valid = new Validity(checkpoint);
    this.values = new Numbers(checkpoint);
  }

  append(v: unknown): void {
    if (v === null || v === undefined) this.appendNull();
    else {
      this.valid.push(true);
      this.values.push(datetimeFits(v as string, this.format) ?? 0);
    }
  }

  appendNull(): void {
    this.valid.push(false);
    this.values.push(0);
  }

  read(b: Uint8Array, i: number): number {
    if (isNull(b, i)) {
      this.appendNull();
      return i + 4;
    }
    const end = scanString(b, i);
    if (end < 0 || stringFlags !== 0) return -1;
    const us = datetimeFits(asciiText(b, i + 1, end - 1), this.format);
    if (us === undefined) return -1;
    this.valid.push(true);
    this.values.push(us);
    return end;
  }

  finish(): arrow.Data {
    const fields = this.valid.fields();
    return arrow.makeData({
      type: new arrow.TimestampMicrosecond("UTC"),
      length: fields.length,
      nullCount: fields.nullCount,
      nullBitmap: this.valid.bytes.subarray(0, (fields.length + 7) >> 3),
      data: this.values.int64(),
    });
  }
}

class BoolAppender implements Appender {
  readonly #valid: Validity;
  readonly #bits: Validity;

  constructor(readonly type: arrow.Bool, checkpoint: Checkpoint) {
    this.#valid = new Validity(checkpoint);
    this.#bits = new Validity(checkpoint);
  }

  append(v: unknown): void {
    this.#valid.push(v !== null && v !== undefined);
    this.#bits.push(v === true);
  }

  appendNull(): void {
    this.append(null);
  }

  read(b: Uint8Array, i: number): number {
    if (isNull(b, i)) {
      this.appendNull();
      return i + 4;
    }
    if (b[i] === 0x74 && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
      this.append(true);
      return i + 4;
    }
    if (
      b[i] === 0x66 && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 &&
      b[i + 4] === 0x65
    ) {
      this.append(false);
      return i + 5;
    }
    return -1;
  }

  finish(): arrow.Data {
    const data = this.#bits.bytes.subarray(0, (this.#bits.length + 7) >> 3);
    return arrow.makeData({ ...this.#valid.fields(), type: this.type, data });
  }
}

class ListAppender implements Appender {
  readonly #valid: Validity;
  readonly #offsets: Offsets;
  readonly #child: Appender;

  constructor(
    layout: ValueLayout & { kind: "list" },
    readonly type: arrow.List,
    checkpoint: Checkpoint,
  ) {
    this.#valid = new Validity(checkpoint);
    this.#offsets = new Offsets(checkpoint);
    this.#child = appenderFor(layout.element, type.children[0]!.type, checkpoint);
  }

  append(v: unknown): void {
    if (v === null || v === undefined) this.appendNull();
    else {
      this.#valid.push(true);
      const list = v as unknown[];
      for (let i = 0; i < list.length; i++) this.#child.append(list[i]);
      this.#offsets.push(this.#offsets.values[this.#offsets.length]! + list.length);
    }
  }

  appendNull(): void {
    this.#valid.push(false);
    this.#offsets.push(this.#offsets.values[this.#offsets.length]!);
  }

  read(b: Uint8Array, i: number): number {
    if (isNull(b, i)) {
      this.appendNull();
      return i + 4;
    }
    if (b[i] !== 0x5b) return -1;
    let n = 0;
    // Minified JSON has no whitespace: a byte above a space is taken as it is.
    i++;
    if (b[i]! <= 0x20) i = skipWhitespace(b, i);
    if (b[i] !== 0x5d) {
      for (;;) {
        i = this.#child.read(b, i);
        if (i < 0) return -1;
        n++;
        let c = b[i]!;
        if (c <= 0x20) c = b[i = skipWhitespace(b, i)]!;
        if (c === 0x5d) break;
        if (c !== 0x2c) return -1;
        i++;
        if (b[i]! <= 0x20) i = skipWhitespace(b, i);
      }
    }
    this.#valid.push(true);
    this.#offsets.push(this.#offsets.values[this.#offsets.length]! + n);
    return i + 1;
  }

  finish(): arrow.Data {
    return arrow.makeData({
      ...this.#valid.fields(),
      type: this.type,
      valueOffsets: this.#offsets.finish(),
      child: this.#child.finish(),
    });
  }
}

const utf8Encoder = new TextEncoder();

class StructAppender implements Appender {
  readonly #valid: Validity;
  readonly #names: string[];
  readonly #keys: Uint8Array[];
  readonly #children: Appender[];
  /** Per field, the object it was last seen in (duplicate keys and absent fields). */
  readonly #seen: Uint32Array;
  #object = 0;

  constructor(
    layout: ValueLayout & { kind: "struct" },
    readonly type: arrow.Struct,
    checkpoint: Checkpoint,
  ) {
    this.#valid = new Validity(checkpoint);
    this.#names = layout.fields.map(([name]) => name);
    this.#keys = this.#names.map((name) => utf8Encoder.encode(name));
    this.#children = layout.fields.map(([, field], j) =>
      appenderFor(field, type.children[j]!.type, checkpoint)
    );
    this.#seen = new Uint32Array(this.#names.length);
  }

  append(v: unknown): void {
    if (v === null || v === undefined) this.appendNull();
    else {
      this.#valid.push(true);
      const o = v as Record<string, unknown>;
      const children = this.#children;
      for (let j = 0; j < children.length; j++) children[j]!.append(o[this.#names[j]!]);
    }
  }

  appendNull(): void {
    this.#valid.push(false);
    const children = this.#children;
    for (let j = 0; j < children.length; j++) children[j]!.appendNull();
  }

  read(b: Uint8Array, i: number): number {
    if (isNull(b, i)) {
      this.appendNull();
      return i + 4;
    }
    const end = readObject(b, i, this.#keys, this.#seen, ++this.#object, this.#children);
    if (end < 0) return -1;
    const children = this.#children;
    const seen = this.#seen;
    for (let j = 0; j < children.length; j++) {
      if (seen[j] !== this.#object) children[j]!.appendNull();
    }
    this.#valid.push(true);
    return end;
  }

  finish(): arrow.Data {
    return arrow.makeData({
      ...this.#valid.fields(),
      type: this.type,
      children: this.#children.map((c) => c.finish()),
    });
  }
}

/**
 * Reads the object at `b[i]` whose keys are all among `keys`, each value by
 * the reader of its key; marks `seen[j] = stamp` for each key read. A key
 * not among them, a duplicate key or a key with escapes or non-ASCII bytes
 * gives -1.
 *
 * @param b The line.
 * @param i The index of `{`.
 * @param keys The known keys as UTF-8.
 * @param seen Per key, the stamp of the object it was last seen in.
 * @param stamp This object's stamp.
 * @param readers Per key, what reads its value.
 * @returns The index after `}`, or -1.
 */
export function readObject(
  b: Uint8Array,
  i: number,
  keys: readonly Uint8Array[],
  seen: Uint32Array,
  stamp: number,
  readers: readonly { read(b: Uint8Array, i: number): number }[],
): number {
  if (b[i] !== 0x7b) return -1;
  i = skipWhitespace(b, i + 1);
  if (b[i] === 0x7d) return i + 1;
  let hint = 0;
  for (;;) {
    const j = plainKeyIndex(keys, b, i, hint);
    if (j < 0 || seen[j] === stamp) return -1;
    seen[j] = stamp;
    hint = j + 1;
    // Minified JSON has no whitespace: a byte above a space is taken as it is.
    i += keys[j]!.length + 2;
    if (b[i]! <= 0x20) i = skipWhitespace(b, i);
    if (b[i] !== 0x3a) return -1;
    i++;
    if (b[i]! <= 0x20) i = skipWhitespace(b, i);
    i = readers[j]!.read(b, i);
    if (i < 0) return -1;
    let c = b[i]!;
    if (c <= 0x20) c = b[i = skipWhitespace(b, i)]!;
    if (c === 0x7d) return i + 1;
    if (c !== 0x2c) return -1;
    i++;
    if (b[i]! <= 0x20) i = skipWhitespace(b, i);
  }
}
