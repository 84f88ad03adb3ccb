/**
 * Writing manifests as s3exchange's `ManifestWriter` does: in `overwrite`
 * mode the root becomes exactly the entries added; in `append_parts` mode
 * the entries go to part manifests (`<dir of root>/manifests/part-….jsonl`),
 * a part flushed every `partMaxEntries` entries or `partMaxBytes` bytes
 * (50,000 / 50 MiB), and the root gains one `manifest_ref` per part, once,
 * when the writer is closed (`append.ts`: concurrent appenders lose nothing).
 *
 * Memory: an overwritten root streams straight into its put; a part is held
 * until it is flushed (charged to the memory budget, so its put can be
 * retried whole), at most `partMaxBytes` or a quarter of the memory limit.
 * A writer that is aborted deletes the parts it wrote: nothing it did stays
 * visible.
 *
 * @module
 */
import type { ObjectStore } from "../stores/mod.ts";
import {
  type FileEntry,
  type ManifestEntry,
  type ManifestRefEntry,
  parseEntry,
  serializeEntry,
} from "./entries.ts";
import { inferIdFromKey, partKeyFor } from "./keys.ts";
import { putBytesRetrying, type PutOutcome, putStream } from "./_io.ts";
import { type ResolvedExchangeOptions, resolveExchangeOptions } from "./options.ts";
import { type AppendOptions, appendRefs, type AppendResult } from "./append.ts";
import { putObject, type PutObjectOptions, type PutSource } from "./objects.ts";

/** How a manifest is written. */
export type WriteMode = "overwrite" | "append_parts";

/** Options of {@linkcode ManifestWriter}. */
export interface ManifestWriterOptions extends AppendOptions {
  /** Whether the root is replaced or gains a reference to a new part. @default "append_parts" */
  mode?: WriteMode | undefined;
  /** Entries per part before it is flushed. @default 50000 */
  partMaxEntries?: number | undefined;
  /** Bytes per part before it is flushed. @default 50 MiB */
  partMaxBytes?: number | undefined;
}

/** What a closed writer reports. */
export interface WriteReport {
  /** The root manifest's key. */
  manifest: string;
  /** The mode. */
  mode: WriteMode;
  /** Entries written. */
  entries: number;
  /** Part manifests written (`append_parts`). */
  parts: string[];
  /** How the root was updated (`append_parts` with parts). */
  root_update: AppendResult | null;
}

const encoder = new TextEncoder();
const BUDGET_STEP = 1024 * 1024;

/**
 * Writes a manifest incrementally.
 *
 * @example Appending in parts of two entries
 * ```ts
 * import { ManifestWriter } from "./manifest_writer.ts";
 * import { readManifest } from "./manifest_reader.ts";
 * import { MemoryStore } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * const writer = new ManifestWriter(store, "job/manifest.jsonl", { partMaxEntries: 2 });
 * for (const key of ["a", "b", "c"]) await writer.addFile(`job/${key}.wav`, { size_bytes: 1 });
 * const report = await writer.close();
 * equal(report.parts.length, 2);
 * equal((await Array.fromAsync(readManifest(store, "job/manifest.jsonl"))).length, 3);
 * ```
 */
export class ManifestWriter {
  /** The store. */
  readonly store: ObjectStore;
  /** The root manifest's key. */
  readonly rootKey: string;
  /** The mode. */
  readonly mode: WriteMode;
  readonly #options: ManifestWriterOptions;
  readonly #io: ResolvedExchangeOptions;
  readonly #partMaxEntries: number;
  readonly #partMaxBytes: number;
  #lines: string[] = [];
  #partBytes = 0;
  #charged = 0;
  #entries = 0;
  readonly #parts: string[] = [];
  #root: { writer: WritableStreamDefaultWriter<Uint8Array>; put: Promise<PutOutcome> } | undefined;
  #closed = false;

  /**
   * Creates a `ManifestWriter`
   *
   * @param store Where the manifest goes.
   * @param rootKey The root manifest's key.
   * @param options Mode, part limits, root update, budget, retries, signal.
   * @throws {RangeError} On a part limit that is not a positive integer.
   */
  constructor(store: ObjectStore, rootKey: string, options: ManifestWriterOptions = {}) {
    this.store = store;
    this.rootKey = rootKey;
    this.mode = options.mode ?? "append_parts";
    if (this.mode !== "overwrite" && this.mode !== "append_parts") {
      throw new TypeError(`Invalid mode "${this.mode}": expected overwrite or append_parts`);
    }
    this.#io = resolveExchangeOptions(options);
    // Puts and the root update share the writer's budget, which holds its part buffer.
    this.#options = { ...options, budget: this.#io.budget };
    this.#partMaxEntries = options.partMaxEntries ?? 50_000;
    this.#partMaxBytes = options.partMaxBytes ?? 50 * 1024 * 1024;
    for (
      const [name, value] of [["partMaxEntries", this.#partMaxEntries], [
        "partMaxBytes",
        this.#partMaxBytes,
      ]] as const
    ) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`Invalid ${name} ${value}: expected a positive integer`);
      }
    }
  }

  /** Entries added so far. */
  get entries(): number {
    return this.#entries;
  }

  /** Parts flushed so far. */
  get parts(): readonly string[] {
    return this.#parts;
  }

  /**
   * Adds one entry (checked as a manifest line would be).
   *
   * @param entry The entry.
   * @throws {InvalidManifestError} When it is not a valid entry.
   */
  async add(entry: ManifestEntry): Promise<void> {
    if (this.#closed) throw new TypeError(`Manifest writer of "${this.rootKey}" is closed`);
    const line = serializeEntry(entry);
    parseEntry(line, { source: this.rootKey });
    this.#entries++;
    if (this.mode === "overwrite") {
      this.#root ??= this.#openRoot();
      await this.#root.writer.write(encoder.encode(line + "\n"));
      return;
    }
    const bytes = encoder.encode(line).length + 1;
    while (this.#partBytes + bytes > this.#charged) {
      const step = Math.min(BUDGET_STEP, this.#io.budget.limitBytes);
      await this.#io.budget.acquire(step, { signal: this.#io.signal });
      this.#charged += step;
    }
    this.#lines.push(line);
    this.#partBytes += bytes;
    const byteLimit = Math.min(this.#partMaxBytes, Math.floor(this.#io.budget.limitBytes / 4));
    if (this.#lines.length >= this.#partMaxEntries || this.#partBytes >= byteLimit) {
      await this.flushPart();
    }
  }

  /**
   * Adds a file entry for an object already in the store (s3exchange's `add_file`).
   *
   * @param key The object's key.
   * @param fields Id (default: from the key), meta, content type, size, ETag.
   * @returns The entry.
   */
  async addFile(
    key: string,
    fields: Partial<Pick<FileEntry, "id" | "meta" | "content_type" | "size_bytes" | "etag">> = {},
  ): Promise<FileEntry> {
    const entry: FileEntry = {
      kind: "file",
      key,
      id: fields.id ?? inferIdFromKey(key),
      meta: fields.meta ?? null,
      content_type: fields.content_type ?? null,
      size_bytes: fields.size_bytes ?? null,
      etag: fields.etag ?? null,
    };
    await this.add(entry);
    return entry;
  }

  /**
   * Adds a reference to another manifest.
   *
   * @param key The referenced manifest's key.
   * @returns The entry.
   */
  async addManifest(key: string): Promise<ManifestRefEntry> {
    const entry: ManifestRefEntry = { kind: "manifest_ref", key };
    await this.add(entry);
    return entry;
  }

  /**
   * Writes an object (bytes, a path or URL, an object of a store, a stream)
   * and adds its file entry.
   *
   * @param key The object's key in this writer's store.
   * @param data The bytes.
   * @param options Id, meta, content type.
   * @returns The entry.
   */
  async putObject(
    key: string,
    data: PutSource,
    options: PutObjectOptions = {},
  ): Promise<FileEntry> {
    const entry = await putObject(this.store, key, data, { ...this.#options, ...options });
    await this.add(entry);
    return entry;
  }

  /**
   * Writes the buffered entries as a part manifest now (`append_parts`).
   *
   * @returns The part's key, or undefined when nothing was buffered.
   */
  async flushPart(): Promise<string | undefined> {
    if (this.mode !== "append_parts" || this.#lines.length === 0) return undefined;
    const partKey = partKeyFor(this.rootKey);
    const bytes = encoder.encode(this.#lines.join("\n") + "\n");
    await putBytesRetrying(
      this.store,
      partKey,
      bytes,
      { contentType: "application/x-ndjson" },
      this.#io,
    );
    this.#parts.push(partKey);
    this.#lines = [];
    this.#partBytes = 0;
    this.#io.budget.release(this.#charged);
    this.#charged = 0;
    return partKey;
  }

  /**
   * Flushes what is buffered and publishes the root: the whole root in
   * `overwrite` mode (an empty manifest when nothing was added), one update
   * adding every part's reference in `append_parts` mode.
   *
   * @returns What was written.
   */
  async close(): Promise<WriteReport> {
    if (this.#closed) throw new TypeError(`Manifest writer of "${this.rootKey}" is closed`);
    let rootUpdate: AppendResult | null = null;
    try {
      if (this.mode === "overwrite") {
        this.#root ??= this.#openRoot();
        await this.#root.writer.close();
        await this.#root.put;
      } else {
        await this.flushPart();
        if (this.#parts.length > 0) {
          rootUpdate = await appendRefs(this.store, this.rootKey, this.#parts, this.#options);
        }
      }
    } catch (error) {
      await this.abort(error);
      throw error;
    }
    this.#closed = true;
    return {
      manifest: this.rootKey,
      mode: this.mode,
      entries: this.#entries,
      parts: [...this.#parts],
      root_update: rootUpdate,
    };
  }

  /**
   * Gives up: the root is left as it was and the parts written are deleted.
   *
   * @param reason Why.
   */
  async abort(reason?: unknown): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#root) {
      await this.#root.writer.abort(reason).catch(() => {});
      await this.#root.put.catch(() => {});
    }
    this.#io.budget.release(this.#charged);
    this.#charged = 0;
    this.#lines = [];
    for (const part of this.#parts) await this.store.delete(part).catch(() => {});
  }

  #openRoot() {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(
      {},
      { highWaterMark: 64 },
    );
    const writer = writable.getWriter();
    let wrote = false;
    const counted = readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          wrote = true;
          controller.enqueue(chunk);
        },
        flush(controller) {
          if (!wrote) controller.enqueue(encoder.encode("\n"));
        },
      }),
    );
    const put = putStream(this.store, this.rootKey, counted, {
      contentType: "application/x-ndjson",
    }, this.#io);
    put.catch(() => {});
    return { writer, put };
  }
}

/**
 * Writes entries as a manifest (s3exchange's `write_manifest`): `overwrite`
 * replaces the root, `append_parts` writes parts and adds their references.
 *
 * @example
 * ```ts
 * import { writeManifest } from "./manifest_writer.ts";
 * import { MemoryStore, getBytes } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * await writeManifest(store, "m.jsonl", [{ kind: "file", key: "a", id: "a" }], { mode: "overwrite" });
 * equal(new TextDecoder().decode(await getBytes(store, "m.jsonl")), '{"kind":"file","key":"a","id":"a"}\n');
 * ```
 *
 * @param store Where the manifest goes.
 * @param rootKey The root manifest's key.
 * @param entries The entries.
 * @param options Mode (default `overwrite`), part limits, budget, retries, signal.
 * @returns What was written.
 */
export async function writeManifest(
  store: ObjectStore,
  rootKey: string,
  entries: Iterable<ManifestEntry> | AsyncIterable<ManifestEntry>,
  options: ManifestWriterOptions = {},
): Promise<WriteReport> {
  const writer = new ManifestWriter(store, rootKey, {
    ...options,
    mode: options.mode ?? "overwrite",
  });
  try {
    for await (const entry of entries) await writer.add(entry);
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  return await writer.close();
}
