/**
 * A zarr v3 store over any ferry {@linkcode ObjectStore}: usable directly by
 * `zarrita` (`get`, `getRange`, `set` with absolute keys such as
 * `/zarr.json`), and offering the zarr-python store method set under
 * camelCase names.
 *
 * @module
 */
import {
  ConflictError,
  NotFoundError,
  NotSupportedError,
  PermissionDeniedError,
} from "../stores/errors.ts";
import { readAll, streamOf } from "../stores/ext.ts";
import {
  type ByteRange,
  isBulkDeleter,
  isConditionalPutter,
  type ObjectStore,
} from "../stores/store.ts";
import { Semaphore } from "../stores/limit_store.ts";

/**
 * A byte range as zarrita asks for it (`{ offset, length }` or
 * `{ suffixLength }`) or as zarr-python does (`RangeByteRequest`
 * `{ start, end }` with `end` exclusive, `OffsetByteRequest` `{ offset }`,
 * `SuffixByteRequest` `{ suffix }`).
 */
export type ZarrByteRange =
  | { offset: number; length: number }
  | { suffixLength: number }
  | { start: number; end: number }
  | { offset: number }
  | { suffix: number };

/** Options of {@linkcode ZarrStore}. */
export interface ZarrStoreOptions {
  /**
   * The folder inside the object store the zarr hierarchy lives under
   * (`data/run1` stores `/zarr.json` as `data/run1/zarr.json`).
   * @default "" (the store's root)
   */
  prefix?: string | undefined;
  /** Refuse every write (`set`, `delete`, `deleteDir`, `clear`). @default false */
  readOnly?: boolean | undefined;
  /**
   * Object-store requests in flight at once. zarrita starts every chunk
   * request of a selection together; this bounds them.
   * @default 16
   */
  maxConcurrency?: number | undefined;
}

/** The listing of one level: objects directly under a prefix and the sub-folders. */
export interface ZarrDirListing {
  /** Names of objects directly under the prefix. */
  keys: string[];
  /** Names of the sub-folders (without the trailing `/`). */
  prefixes: string[];
}

/** The default of {@linkcode ZarrStoreOptions.maxConcurrency}. */
export const DEFAULT_ZARR_MAX_CONCURRENCY = 16;

const DELETE_BATCH = 1000;

/**
 * A zarr v3 store over any ferry object store and a prefix.
 *
 * Method names map to zarr-python's `Store` as follows: `get` / `getRange` ↔
 * `get(key, byte_range)`, `set` ↔ `set`, `exists` ↔ `exists`, `delete` ↔
 * `delete`, `deleteDir` ↔ `delete_dir`, `list` ↔ `list`, `listPrefix` ↔
 * `list_prefix`, `listDir` ↔ `list_dir`, `getSize` ↔ `getsize`,
 * `getSizePrefix` ↔ `getsize_prefix`, `isEmpty` ↔ `is_empty`, `clear` ↔
 * `clear`, `withReadOnly` ↔ `with_read_only`, `setIfNotExists` ↔
 * `set_if_not_exists`, `getPartialValues` ↔ `get_partial_values`.
 *
 * Keys may be absolute (`/c/0/0`, as zarrita passes them) or relative
 * (`c/0/0`, as zarr-python does); listings return relative keys. A missing
 * key reads as `undefined`; every other failure (auth, server, network) is
 * thrown.
 *
 * @example A zarr array in memory, written and read by zarrita
 * ```ts
 * import * as zarr from "zarrita";
 * import { MemoryStore } from "../stores/memory.ts";
 * import { ZarrStore } from "./store.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new ZarrStore(new MemoryStore(), { prefix: "cubes/one" });
 * const arr = await zarr.create(zarr.root(store).resolve("a"), {
 *   shape: [4], chunkShape: [2], dtype: "int32",
 * });
 * await zarr.set(arr, null, { data: new Int32Array([1, 2, 3, 4]), shape: [4], stride: [1] });
 * deepEqual((await zarr.get(arr)).data, new Int32Array([1, 2, 3, 4]));
 * deepEqual((await Array.fromAsync(store.listDir("a"))).sort(), ["c", "zarr.json"]);
 * ```
 */
export class ZarrStore {
  /** The object store underneath. */
  readonly store: ObjectStore;
  /** The normalised prefix: empty, or ending with `/`. */
  readonly prefix: string;
  /** Whether writes are refused. */
  readonly readOnly: boolean;
  readonly #limiter: Semaphore;

  /**
   * Creates a `ZarrStore`
   *
   * @param store Any ferry object store.
   * @param options Prefix, read-only mode, concurrency.
   * @throws {TypeError} On a prefix with an empty, `.` or `..` segment.
   * @throws {RangeError} On a `maxConcurrency` that is not an integer >= 1.
   */
  constructor(store: ObjectStore, options: ZarrStoreOptions = {}) {
    this.store = store;
    this.prefix = normalizePrefix(options.prefix ?? "");
    this.readOnly = options.readOnly ?? false;
    this.#limiter = new Semaphore(options.maxConcurrency ?? DEFAULT_ZARR_MAX_CONCURRENCY);
  }

  /** Object-store requests allowed in flight at once. */
  get maxConcurrency(): number {
    return this.#limiter.limit;
  }

  /**
   * The whole value of `key`.
   *
   * @param key `/zarr.json`, `c/0/0`, …
   * @param options Signal.
   * @returns The bytes, or undefined when the key is missing.
   */
  get(
    key: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Uint8Array | undefined> {
    return this.#read(key, undefined, options.signal);
  }

  /**
   * Part of the value of `key`. Offsets past the end are clamped, so a range
   * beyond the value returns fewer (or no) bytes.
   *
   * @param key The key.
   * @param range `{ offset, length }`, `{ suffixLength }` (zarrita) or
   *   `{ start, end }`, `{ offset }`, `{ suffix }` (zarr-python).
   * @param options Signal.
   * @returns The bytes, or undefined when the key is missing.
   * @throws {TypeError} On a range of any other shape.
   * @throws {RangeError} On a negative bound or an end before the start.
   */
  getRange(
    key: string,
    range: ZarrByteRange,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Uint8Array | undefined> {
    let byteRange: ByteRange;
    try {
      byteRange = toByteRange(range);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#read(key, byteRange, options.signal);
  }

  /**
   * Many whole values or ranges, fetched concurrently (bounded).
   *
   * @param requests `[key, range]` pairs; a missing range means the whole value.
   * @returns One entry per request, in order; undefined for a missing key.
   */
  getPartialValues(
    requests: Iterable<readonly [string, ZarrByteRange | undefined]>,
  ): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(
      [...requests].map(([key, range]) => range ? this.getRange(key, range) : this.get(key)),
    );
  }

  /**
   * Writes `value` at `key`, replacing what was there.
   *
   * @param key The key.
   * @param value The bytes.
   * @throws {PermissionDeniedError} When the store is read-only.
   */
  async set(key: string, value: Uint8Array): Promise<void> {
    const objectKey = this.#objectKey(key);
    this.#checkWritable("set", key);
    await this.#limiter.run(() =>
      this.store.put(objectKey, streamOf(value), {
        size: value.byteLength,
        contentType: contentTypeOf(objectKey),
      })
    );
  }

  /**
   * Writes `value` at `key` only when nothing is there. Atomic where the
   * store supports conditional puts (memory, file, Swift-native); otherwise
   * (or where the server refuses them, as Swift's s3api does) a check then a
   * write.
   *
   * @param key The key.
   * @param value The bytes.
   * @throws {PermissionDeniedError} When the store is read-only.
   */
  async setIfNotExists(key: string, value: Uint8Array): Promise<void> {
    const objectKey = this.#objectKey(key);
    this.#checkWritable("set", key);
    const store = this.store;
    if (isConditionalPutter(store)) {
      try {
        await this.#limiter.run(() =>
          store.putIf(objectKey, streamOf(value), { ifNoneMatch: "*" }, {
            size: value.byteLength,
            contentType: contentTypeOf(objectKey),
          })
        );
        return;
      } catch (error) {
        if (error instanceof ConflictError) return;
        // Some servers (Swift s3api) refuse conditional puts: check, then write.
        if (!(error instanceof NotSupportedError)) throw error;
      }
    }
    if (!(await this.exists(key))) await this.set(key, value);
  }

  /**
   * Whether `key` exists.
   *
   * @param key The key.
   * @returns True when it exists.
   */
  async exists(key: string): Promise<boolean> {
    return (await this.#head(key)) !== undefined;
  }

  /**
   * Deletes `key`; a missing key is not an error.
   *
   * @param key The key.
   * @throws {PermissionDeniedError} When the store is read-only.
   */
  async delete(key: string): Promise<void> {
    const objectKey = this.#objectKey(key);
    this.#checkWritable("delete", key);
    await this.#limiter.run(() => this.store.delete(objectKey));
  }

  /**
   * Deletes every key under the folder `prefix` (`foo` removes `foo/…` but not
   * `foo-bar/…`); `""` deletes everything under the store's prefix. Uses bulk
   * deletes where the store has them.
   *
   * @param prefix The folder.
   * @throws {PermissionDeniedError} When the store is read-only.
   */
  async deleteDir(prefix: string): Promise<void> {
    this.#checkWritable("delete", prefix);
    const folder = this.prefix + dirPrefix(prefix);
    const keys: string[] = [];
    for await (const entry of this.store.list(folder)) {
      if (entry.kind === "object") keys.push(entry.key);
    }
    const store = this.store;
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      if (isBulkDeleter(store)) {
        const failed = await this.#limiter.run(() => store.deleteMany(batch));
        if (failed.length > 0) {
          const first = failed[0]!;
          throw new AggregateError(
            failed.map((f) => f.error),
            `Failed to delete ${failed.length} keys under "${prefix}": first "${first.key}": ${first.error.message}`,
          );
        }
      } else {
        await Promise.all(batch.map((key) => this.#limiter.run(() => store.delete(key))));
      }
    }
  }

  /**
   * Deletes everything under the store's prefix.
   *
   * @throws {PermissionDeniedError} When the store is read-only.
   */
  async clear(): Promise<void> {
    this.#checkWritable("clear", "");
    await this.deleteDir("");
  }

  /**
   * Every key in the store (all listing pages), relative to the store's prefix.
   *
   * @returns Keys such as `zarr.json`, `temps/c/0/0`.
   */
  list(): AsyncIterable<string> {
    return this.listPrefix("");
  }

  /**
   * Every key that starts with `prefix` (a plain string prefix, as in
   * zarr-python), relative to the store's prefix.
   *
   * @param prefix The string prefix.
   * @returns Matching keys.
   */
  async *listPrefix(prefix: string): AsyncIterable<string> {
    const from = this.prefix + stripLeadingSlash(prefix);
    for await (const entry of this.store.list(from)) {
      if (entry.kind === "object") yield entry.key.slice(this.prefix.length);
    }
  }

  /**
   * The names directly inside the folder `prefix`: object names and
   * sub-folder names (without `/`), as zarr-python's `list_dir` yields them.
   *
   * @param prefix The folder (`""` for the root; a trailing `/` is optional).
   * @returns Names such as `zarr.json`, `c`.
   */
  async *listDir(prefix: string): AsyncIterable<string> {
    const listing = await this.listDirEntries(prefix);
    yield* listing.keys;
    yield* listing.prefixes;
  }

  /**
   * The folder `prefix` split into object names and sub-folder names.
   *
   * @param prefix The folder.
   * @returns `{ keys, prefixes }`, each in key order.
   */
  async listDirEntries(prefix: string): Promise<ZarrDirListing> {
    const folder = this.prefix + dirPrefix(prefix);
    const out: ZarrDirListing = { keys: [], prefixes: [] };
    for await (const entry of this.store.list(folder, { delimiter: "/" })) {
      if (entry.kind === "object") {
        const name = entry.key.slice(folder.length);
        if (name) out.keys.push(name);
      } else {
        const name = entry.prefix.slice(folder.length, -1);
        if (name) out.prefixes.push(name);
      }
    }
    return out;
  }

  /**
   * The size of the value at `key`.
   *
   * @param key The key.
   * @returns Bytes.
   * @throws {NotFoundError} When the key is missing.
   */
  async getSize(key: string): Promise<number> {
    const meta = await this.#head(key);
    if (meta === undefined) {
      throw new NotFoundError(`Zarr key not found: "${key}"`, { store: String(this), key });
    }
    return meta.size;
  }

  /**
   * The total size of every value under the folder `prefix`, from one
   * listing (no request per key).
   *
   * @param prefix The folder (`c` counts `c/…`, not `cc/…`).
   * @returns Bytes.
   */
  async getSizePrefix(prefix: string): Promise<number> {
    let total = 0;
    for await (const entry of this.store.list(this.prefix + dirPrefix(prefix))) {
      if (entry.kind === "object") total += entry.size;
    }
    return total;
  }

  /**
   * Whether nothing is stored under the folder `prefix`.
   *
   * @param prefix The folder. @default ""
   * @returns True when empty.
   */
  async isEmpty(prefix = ""): Promise<boolean> {
    for await (const entry of this.store.list(this.prefix + dirPrefix(prefix))) {
      if (entry.kind === "object") return false;
    }
    return true;
  }

  /**
   * The same location with another read-only setting.
   *
   * @param readOnly Whether the new store refuses writes. @default false
   * @returns A new store over the same object store and prefix.
   */
  withReadOnly(readOnly = false): ZarrStore {
    return new ZarrStore(this.store, {
      prefix: this.prefix,
      readOnly,
      maxConcurrency: this.maxConcurrency,
    });
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `ZarrStore(<store>, prefix)`, with `read-only` when it is.
   */
  toString(): string {
    return `ZarrStore(${this.store}, "${this.prefix}"${this.readOnly ? ", read-only" : ""})`;
  }

  #objectKey(key: string): string {
    const relative = stripLeadingSlash(key);
    const bad = relative === "" || relative.includes("\0") ||
      relative.split("/").some((s) => s === "" || s === "." || s === "..");
    if (bad) {
      throw new TypeError(
        `Invalid zarr key ${
          JSON.stringify(key)
        }: expected "/"-separated names, none empty, "." or ".."`,
      );
    }
    return this.prefix + relative;
  }

  #checkWritable(action: string, key: string): void {
    if (this.readOnly) {
      throw new PermissionDeniedError(
        `Zarr store is read-only: cannot ${action} "${key}"`,
        { store: String(this), key },
      );
    }
  }

  async #read(
    key: string,
    range: ByteRange | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array | undefined> {
    const objectKey = this.#objectKey(key);
    return await this.#limiter.run(async () => {
      signal?.throwIfAborted();
      try {
        const body = await this.store.get(objectKey, { range, signal });
        return await readAll(body);
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    });
  }

  async #head(key: string) {
    const objectKey = this.#objectKey(key);
    return await this.#limiter.run(async () => {
      try {
        return await this.store.head(objectKey);
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    });
  }
}

/**
 * Converts a zarrita or zarr-python byte range into a ferry {@linkcode ByteRange}.
 *
 * @example Each accepted shape
 * ```ts
 * import { toByteRange } from "./store.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(toByteRange({ offset: 2, length: 3 }), { offset: 2, length: 3 });
 * deepEqual(toByteRange({ suffixLength: 4 }), { suffix: 4 });
 * deepEqual(toByteRange({ start: 1, end: 4 }), { offset: 1, length: 3 });
 * deepEqual(toByteRange({ offset: 5 }), { offset: 5 });
 * deepEqual(toByteRange({ suffix: 1 }), { suffix: 1 });
 * ```
 *
 * @param range The zarr-side range.
 * @returns The store-side range.
 * @throws {TypeError} On any other shape.
 * @throws {RangeError} On a negative or non-integer bound, or `end < start`.
 */
export function toByteRange(range: ZarrByteRange): ByteRange {
  const r = (typeof range === "object" && range !== null ? range : {}) as Record<string, unknown>;
  const int = (name: string) => {
    const v = r[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(
        `Invalid byte range ${JSON.stringify(range)}: "${name}" must be an integer >= 0`,
      );
    }
    return v;
  };
  const keys = Object.keys(r).filter((k) => r[k] !== undefined).sort().join(",");
  switch (keys) {
    case "length,offset":
      return { offset: int("offset"), length: int("length") };
    case "suffixLength":
      return { suffix: int("suffixLength") };
    case "suffix":
      return { suffix: int("suffix") };
    case "offset":
      return { offset: int("offset") };
    case "end,start": {
      const start = int("start");
      const end = int("end");
      if (end < start) {
        throw new RangeError(
          `Invalid byte range ${JSON.stringify(range)}: "end" is before "start"`,
        );
      }
      return { offset: start, length: end - start };
    }
  }
  throw new TypeError(
    `Unexpected byte range ${
      JSON.stringify(range)
    }: expected {offset, length}, {suffixLength}, {start, end}, {offset} or {suffix}`,
  );
}

function stripLeadingSlash(key: string): string {
  return key.startsWith("/") ? key.slice(1) : key;
}

/** `foo` → `foo/`, `foo/` → `foo/`, `""` and `/` → `""`. */
function dirPrefix(prefix: string): string {
  const p = stripLeadingSlash(prefix);
  return p === "" || p.endsWith("/") ? p : p + "/";
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "";
  if (trimmed.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new TypeError(
      `Invalid zarr store prefix ${
        JSON.stringify(prefix)
      }: expected "/"-separated names, none empty, "." or ".."`,
    );
  }
  return trimmed + "/";
}

function contentTypeOf(key: string): string {
  return key.endsWith(".json") ? "application/json" : "application/octet-stream";
}
