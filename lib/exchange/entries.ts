/**
 * Manifest entries: one JSON object a line, as s3exchange 0.1.x reads and
 * writes them.
 *
 * Lines are written exactly as Python's `json.dumps(entry,
 * separators=(",", ":"))` writes them: no spaces, non-ASCII and DEL escaped
 * as `\uXXXX`, integers as written (any size), floats in Python's `repr`
 * (`1.0`, `1e+16`). Parsed entries are frozen and keep every field, known or
 * not, so an entry copied from one manifest to another (compaction, a root
 * rewrite) comes out as s3exchange would write it. An object key that looks
 * like an array index would be moved first by JavaScript; a line with one is
 * kept as it was written.
 *
 * @module
 */
import { InvalidManifestError } from "./errors.ts";
import { concatBytes } from "../bytes.ts";

/** An object in the store (a loose file), or a member of a shard. */
export interface FileEntry {
  /** Always `file`. */
  kind: "file";
  /** The object's key, or the virtual key `archive_key#member_path` of a shard member. */
  key: string;
  /** The caller's identifier (s3exchange: the base name without extension). */
  id?: string | null;
  /** Free metadata. */
  meta?: Record<string, unknown> | null;
  /** The content type, when known. */
  content_type?: string | null;
  /** Size in bytes. */
  size_bytes?: number | null;
  /** The store's ETag, unquoted. */
  etag?: string | null;
  /** The member's path inside its shard (shard members only). */
  member_path?: string;
  /** The shard holding the member (expanded shard members only). */
  archive_key?: string;
  /** Fields s3exchange or another writer added; kept. */
  [field: string]: unknown;
}

/** A tar (or tar.gz) archive of members, with its internal manifest first. */
export interface ShardEntry {
  /** Always `shard`. */
  kind: "shard";
  /** The archive's key. */
  archive_key: string;
  /** Always `tar`. */
  format?: string;
  /** `gzip` or null. */
  compression?: string | null;
  /** The internal manifest's member path. @default "__manifest__.jsonl" */
  internal_manifest_path?: string;
  /** Members in the archive. */
  count?: number | null;
  /** The archive's size in bytes. */
  size_bytes?: number | null;
  /** `{"etag": …}` of the archive. */
  meta?: Record<string, unknown> | null;
  /** Fields another writer added; kept. */
  [field: string]: unknown;
}

/** A reference to another manifest, whose entries count as if they stood here. */
export interface ManifestRefEntry {
  /** Always `manifest_ref`. */
  kind: "manifest_ref";
  /** The referenced manifest's key. */
  key: string;
  /** Fields another writer added; kept. */
  [field: string]: unknown;
}

/** Any manifest line. */
export type ManifestEntry = FileEntry | ShardEntry | ManifestRefEntry;

/** Where a line came from, for errors. */
export interface LineOrigin {
  /** The manifest (href or key). */
  source?: string | undefined;
  /** The 1-based line number. */
  line?: number | undefined;
  /**
   * For a shard's internal manifest: the archive's key, so a file entry
   * without `key` gets the virtual key from its `member_path` (as s3exchange
   * reads shards of older writers).
   */
  archiveKey?: string | undefined;
}

/** Lines whose canonical form JavaScript cannot rebuild (index-like object keys). */
const keptAsWritten = new WeakMap<object, string>();

const INDEX_LIKE = /^(0|[1-9]\d*)$/;
const INTEGER = /^-?\d+$/;

interface RawJsonValue {
  readonly rawJSON: string;
}
const rawJson = (JSON as unknown as { rawJSON(text: string): RawJsonValue }).rawJSON;
const isRawJson = (JSON as unknown as { isRawJSON(value: unknown): value is RawJsonValue })
  .isRawJSON;

/**
 * Parses one manifest line into a frozen entry, checking what s3exchange
 * checks (`kind`, and `key` or `archive_key` for it) and that keys are
 * strings.
 *
 * @example A file entry with a field ferry does not know
 * ```ts
 * import { parseEntry, serializeEntry } from "./entries.ts";
 * import { equal, throws } from "node:assert/strict";
 * const entry = parseEntry('{"kind": "file", "key": "a/b.wav", "sr": 16000.0}');
 * equal(entry.key, "a/b.wav");
 * equal(serializeEntry(entry), '{"kind":"file","key":"a/b.wav","sr":16000.0}');
 * throws(() => parseEntry('{"kind":"file"}', { source: "m.jsonl", line: 2 }), /line 2: missing "key"/);
 * ```
 *
 * @param line The line (surrounding whitespace is ignored).
 * @param origin Manifest and line number, for errors.
 * @returns The entry.
 * @throws {InvalidManifestError} On bad JSON, a non-object, a missing or unknown `kind`, a missing key.
 */
export function parseEntry(line: string, origin: LineOrigin = {}): ManifestEntry {
  const text = line.trim();
  if (text === "") throw new InvalidManifestError("empty line", origin);
  let parsed: { value: unknown; indexLikeKey: boolean };
  try {
    parsed = parseJsonPreservingNumbers(text);
  } catch (error) {
    throw new InvalidManifestError(`invalid JSON (${(error as Error).message})`, {
      ...origin,
      cause: error,
    });
  }
  const { value, indexLikeKey } = parsed;
  if (value === null || typeof value !== "object" || Array.isArray(value) || isRawJson(value)) {
    throw new InvalidManifestError("expected a JSON object", origin);
  }
  const entry = value as Record<string, unknown>;
  const kind = entry.kind;
  if (kind === undefined) throw new InvalidManifestError('missing "kind"', origin);
  const required = kind === "file" || kind === "manifest_ref"
    ? "key"
    : kind === "shard"
    ? "archive_key"
    : undefined;
  if (required === undefined) {
    throw new InvalidManifestError(`unknown entry kind ${JSON.stringify(kind)}`, origin);
  }
  if (
    !(required in entry) && kind === "file" && origin.archiveKey !== undefined &&
    typeof entry.member_path === "string" && entry.member_path !== ""
  ) {
    return Object.freeze({
      ...entry,
      key: `${origin.archiveKey}#${entry.member_path}`,
    }) as FileEntry;
  }
  if (!(required in entry)) {
    throw new InvalidManifestError(
      `missing "${required}" in a ${String(kind).replace("_", " ")} entry`,
      origin,
    );
  }
  if (typeof entry[required] !== "string" || entry[required] === "") {
    throw new InvalidManifestError(`"${required}" must be a non-empty string`, origin);
  }
  if (indexLikeKey) keptAsWritten.set(entry, text);
  return entry as ManifestEntry;
}

/**
 * Parses JSON as Python's `json.loads` would for s3exchange: numbers keep
 * their Python form (integers of any size, `16000.0`), objects and arrays are
 * frozen.
 *
 * @example
 * ```ts
 * import { parseJsonPreservingNumbers } from "./entries.ts";
 * import { equal } from "node:assert/strict";
 * const { value } = parseJsonPreservingNumbers('{"sr":16000.0,"n":12345678901234567890}');
 * equal(JSON.stringify(value), '{"sr":16000.0,"n":12345678901234567890}');
 * ```
 *
 * @param text JSON text.
 * @returns The value, and whether an object had a key that looks like an array index.
 * @throws {SyntaxError} On invalid JSON.
 */
export function parseJsonPreservingNumbers(
  text: string,
): { value: unknown; indexLikeKey: boolean } {
  let indexLikeKey = false;
  const value = JSON.parse(
    text,
    function (this: unknown, key: string, item: unknown, context?: {
      source?: string;
    }) {
      if (!Array.isArray(this) && INDEX_LIKE.test(key)) indexLikeKey = true;
      if (typeof item === "number") {
        const python = pythonNumberText(context?.source ?? String(item));
        return python === JSON.stringify(item) ? item : rawJson(python);
      }
      return item !== null && typeof item === "object" ? Object.freeze(item) : item;
    } as (key: string, value: unknown) => unknown,
  );
  return { value, indexLikeKey };
}

/**
 * One entry as a compact JSON line (without the newline), byte for byte as
 * Python's `json.dumps(entry, separators=(",", ":"))` writes it: fields in
 * their order, no spaces, everything outside printable ASCII escaped.
 *
 * @example
 * ```ts
 * import { serializeEntry } from "./entries.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   serializeEntry({ kind: "file", key: "é/a b", id: null, meta: { n: 1 } }),
 *   '{"kind":"file","key":"\\u00e9/a b","id":null,"meta":{"n":1}}',
 * );
 * ```
 *
 * @param entry The entry.
 * @returns The line.
 */
export function serializeEntry(entry: ManifestEntry): string {
  return keptAsWritten.get(entry) ?? asciiOnly(JSON.stringify(entry));
}

/**
 * A number read from an entry field (also a float kept in Python's form).
 *
 * @example
 * ```ts
 * import { numberField, parseEntry } from "./entries.ts";
 * import { equal } from "node:assert/strict";
 * equal(numberField(parseEntry('{"kind":"file","key":"k","size_bytes":5.0}').size_bytes), 5);
 * equal(numberField(null), undefined);
 * ```
 *
 * @param value The field's value.
 * @returns The number, or undefined when it is not one.
 */
export function numberField(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (isRawJson(value)) return Number(value.rawJSON);
  return undefined;
}

function asciiOnly(json: string): string {
  return json.replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/**
 * The text Python's `json.dumps(json.loads(source))` gives for a JSON number:
 * integers exactly, floats in `repr` form.
 *
 * @param source The number as written.
 * @returns Python's form.
 */
export function pythonNumberText(source: string): string {
  if (INTEGER.test(source)) return BigInt(source).toString();
  return pythonFloatRepr(Number(source));
}

function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa = "", exponent = "0"] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(exponent);
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Longest line accepted; a longer one is a bad manifest, not a reason to run out of memory. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * The lines of a byte stream, split at `\n` (a `\r` before it is dropped),
 * with their 1-based numbers; holds one line at a time.
 *
 * @param stream UTF-8 text.
 * @param origin The source, for errors.
 * @returns Each line's text and number (blank lines included).
 * @throws {InvalidManifestError} On invalid UTF-8 or a line over {@linkcode MAX_LINE_BYTES}.
 */
export async function* textLines(
  stream: ReadableStream<Uint8Array>,
  origin: { source?: string | undefined } = {},
): AsyncGenerator<{ text: string; line: number }> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let line = 0;
  const decode = (parts: Uint8Array[], number: number): string => {
    const bytes = parts.length === 1 ? parts[0]! : concatBytes(parts);
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d
      ? bytes.length - 1
      : bytes.length;
    try {
      return decoder.decode(bytes.subarray(0, end));
    } catch (error) {
      throw new InvalidManifestError("invalid UTF-8", { ...origin, line: number, cause: error });
    }
  };
  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      pending.push(chunk.subarray(start, nl));
      line++;
      yield { text: decode(pending, line), line };
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) {
        throw new InvalidManifestError(`line longer than ${MAX_LINE_BYTES} bytes`, {
          ...origin,
          line: line + 1,
        });
      }
      pending.push(chunk.slice(start));
    }
  }
  if (pendingBytes > 0) {
    line++;
    yield { text: decode(pending, line), line };
  }
}

/**
 * The entries of a manifest stream, blank lines skipped, each bad line an
 * error naming the source and its line.
 *
 * @example
 * ```ts
 * import { parseEntries } from "./entries.ts";
 * import { equal, rejects } from "node:assert/strict";
 * const stream = new Blob(['{"kind":"manifest_ref","key":"p.jsonl"}\n\n']).stream();
 * const entries = await Array.fromAsync(parseEntries(stream, { source: "m" }));
 * equal(entries.length, 1);
 * const bad = new Blob(['{"kind":"file","key":"a"}\nnot json\n']).stream();
 * await rejects(Array.fromAsync(parseEntries(bad, { source: "m" })), /"m" line 2/);
 * ```
 *
 * @param stream The manifest's bytes.
 * @param origin The source, for errors; the archive's key for a shard's internal manifest.
 * @returns The entries, in order.
 */
export async function* parseEntries(
  stream: ReadableStream<Uint8Array>,
  origin: { source?: string | undefined; archiveKey?: string | undefined } = {},
): AsyncGenerator<ManifestEntry> {
  for await (const { text, line } of textLines(stream, origin)) {
    if (text.trim() === "") continue;
    yield parseEntry(text, { ...origin, line });
  }
}

const encoder = new TextEncoder();

/**
 * Manifest bytes for entries: each as {@linkcode serializeEntry} writes it,
 * followed by `\n`; an empty manifest is one `\n`, as s3exchange writes it.
 *
 * @example
 * ```ts
 * import { manifestBytes } from "./entries.ts";
 * import { equal } from "node:assert/strict";
 * const text = new TextDecoder().decode(manifestBytes([{ kind: "manifest_ref", key: "p" }]));
 * equal(text, '{"kind":"manifest_ref","key":"p"}\n');
 * equal(manifestBytes([]).length, 1);
 * ```
 *
 * @param entries The entries.
 * @returns The bytes.
 */
export function manifestBytes(entries: Iterable<ManifestEntry>): Uint8Array {
  let text = "";
  for (const entry of entries) text += serializeEntry(entry) + "\n";
  return encoder.encode(text === "" ? "\n" : text);
}

/**
 * Type guard for a file entry.
 *
 * @param entry Any entry.
 * @returns Whether it is a `file` entry.
 */
export function isFileEntry(entry: ManifestEntry): entry is FileEntry {
  return entry.kind === "file";
}

/**
 * Type guard for a shard entry.
 *
 * @param entry Any entry.
 * @returns Whether it is a `shard` entry.
 */
export function isShardEntry(entry: ManifestEntry): entry is ShardEntry {
  return entry.kind === "shard";
}

/**
 * Type guard for a manifest reference.
 *
 * @param entry Any entry.
 * @returns Whether it is a `manifest_ref` entry.
 */
export function isManifestRef(entry: ManifestEntry): entry is ManifestRefEntry {
  return entry.kind === "manifest_ref";
}
