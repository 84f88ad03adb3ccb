/**
 * An in-process store for library users and tests of pure logic.
 *
 * @module
 */
import { checkKey, commonPrefixOf, compareKeys } from "./_keys.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { readAll } from "./ext.ts";
import type {
  BulkDeleter,
  ConditionalPutter,
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutChecker,
  PutCondition,
  PutOptions,
  PutResult,
  ServerCopier,
} from "./store.ts";
import { checkRange, normalizeEtag, resolveRange } from "./store.ts";
import { createHash } from "node:crypto";

interface StoredObject {
  bytes: Uint8Array;
  meta: ObjectMeta;
}

const namedStores = new Map<string, Map<string, StoredObject>>();

/** Options of {@linkcode MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Stores opened with the same name share their objects (as `memory://name/`
   * URLs do within one process).
   * @default a fresh, private store
   */
  name?: string | undefined;
}

/**
 * Objects held in this process's memory; ETags are MD5 hex, as Swift and
 * single-part S3 report them.
 *
 * @example Put, list, get
 * ```ts
 * import { MemoryStore } from "./memory.ts";
 * import { getBytes, listAll, putBytes } from "./ext.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * await putBytes(store, "x/1", new Uint8Array([1, 2, 3]));
 * equal((await listAll(store, "x/")).length, 1);
 * equal((await getBytes(store, "x/1")).length, 3);
 * ```
 */
export class MemoryStore
  implements ObjectStore, BulkDeleter, ConditionalPutter, ServerCopier, PutChecker {
  /** ETags are the MD5 of the bytes, as Swift and single-part S3. */
  readonly putCheck = "md5-etag" as const;
  /** `putIf` checks and writes with no await between. */
  readonly exclusiveCreate: boolean = true;
  readonly #objects: Map<string, StoredObject>;
  readonly #name: string;

  /**
   * Creates a `MemoryStore`
   *
   * @param options The store's name.
   */
  constructor(options: MemoryStoreOptions = {}) {
    this.#name = options.name ?? "";
    if (options.name === undefined) {
      this.#objects = new Map();
    } else {
      let shared = namedStores.get(options.name);
      if (!shared) namedStores.set(options.name, shared = new Map());
      this.#objects = shared;
    }
  }

  #find(key: string): StoredObject {
    const found = this.#objects.get(key);
    if (!found) throw new NotFoundError(`Object not found: "${key}"`, { store: String(this), key });
    return found;
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  async head(key: string): Promise<ObjectMeta> {
    checkKey(key, String(this));
    return await Promise.resolve({ ...this.#find(key).meta });
  }

  /** The object's bytes, whole or a range, as a web stream */
  async get(key: string, options: GetOptions = {}): Promise<ReadableStream<Uint8Array>> {
    await Promise.resolve();
    checkKey(key, String(this));
    const { bytes } = this.#find(key);
    let view = bytes;
    if (options.range) {
      checkRange(options.range);
      const [start, end] = resolveRange(options.range, bytes.byteLength);
      view = bytes.subarray(start, end);
    }
    return new ReadableStream({
      start(controller) {
        if (view.byteLength > 0) controller.enqueue(view.slice());
        controller.close();
      },
    });
  }

  /** Writes the stream to `key` atomically: readers see the old object or the whole new one */
  async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<PutResult> {
    checkKey(key, String(this));
    const bytes = await readAll(body);
    options.signal?.throwIfAborted();
    return this.#set(key, bytes, options);
  }

  #set(key: string, bytes: Uint8Array, options: PutOptions): PutResult {
    const etag = createHash("md5").update(bytes).digest("hex");
    this.#objects.set(key, {
      bytes,
      meta: {
        key,
        size: bytes.byteLength,
        etag,
        lastModified: new Date(),
        contentType: options.contentType ?? "application/octet-stream",
      },
    });
    return { etag, size: bytes.byteLength };
  }

  /** Like `put`, but throws `ConflictError` when `condition` does not hold */
  async putIf(
    key: string,
    body: ReadableStream<Uint8Array>,
    condition: PutCondition,
    options: PutOptions = {},
  ): Promise<PutResult> {
    checkKey(key, String(this));
    const bytes = await readAll(body);
    options.signal?.throwIfAborted();
    // Checked and written with no await between: concurrent callers are decided one at a time.
    const current = this.#objects.get(key);
    const holds = "ifNoneMatch" in condition
      ? current === undefined
      : current?.meta.etag === normalizeEtag(condition.ifMatch);
    if (!holds) {
      throw new ConflictError(`Precondition failed for "${key}"`, { store: String(this), key });
    }
    return this.#set(key, bytes, options);
  }

  /** Deletes `key`; a missing key is not an error */
  async delete(key: string): Promise<void> {
    await Promise.resolve();
    checkKey(key, String(this));
    this.#objects.delete(key);
  }

  /** Deletes every key in few requests; returns the keys that failed, with the reason */
  deleteMany(keys: string[]): Promise<{ key: string; error: Error }[]> {
    for (const key of keys) this.#objects.delete(key);
    return Promise.resolve([]);
  }

  /** Copies `from` to `to` inside the store */
  async copyWithin(from: string, to: string): Promise<void> {
    await Promise.resolve();
    const source = this.#find(from);
    this.#objects.set(to, {
      bytes: source.bytes,
      meta: { ...source.meta, key: to, lastModified: new Date() },
    });
  }

  /** Every object under `prefix` (all pages), in key order */
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    const keys = [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    let lastPrefix: string | undefined;
    for (const key of keys) {
      options.signal?.throwIfAborted();
      const group = commonPrefixOf(key, prefix, options.delimiter);
      if (group !== undefined) {
        if (group !== lastPrefix) yield { kind: "prefix", prefix: group };
        lastPrefix = group;
        continue;
      }
      const stored = this.#objects.get(key);
      if (stored) yield { kind: "object", ...stored.meta };
    }
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `MemoryStore(name)`.
   */
  toString(): string {
    return `MemoryStore(${this.#name})`;
  }
}
