/**
 * Writing shards: many sources (bytes, paths, URLs of any store, streams)
 * streamed into one tar or tar.gz put, the internal manifest first, never
 * an archive in memory. The internal manifest of an uncompressed tar also
 * records each member's data offset (`offset_bytes`, a field s3exchange
 * ignores) so a member can be read by byte range.
 *
 * @module
 */
import { type ObjectStore, openLocation, streamOf, withRetry } from "../stores/mod.ts";
import { mapOrdered, pooledMap } from "../pipeline/mod.ts";
import {
  type FileEntry,
  parseJsonPreservingNumbers,
  serializeEntry,
  type ShardEntry,
  textLines,
} from "./entries.ts";
import { inferIdFromKey, virtualKey } from "./keys.ts";
import { getVerified, putStream } from "./_io.ts";
import { GZIP_IN_FLIGHT_BYTES } from "../pipeline/gzip_stream.ts";
import { type ExchangeOptions, resolveExchangeOptions } from "./options.ts";
import {
  INTERNAL_MANIFEST_PATH,
  packTarStream,
  paddedSize,
  TAR_END_BYTES,
  TAR_PACKER_BUFFER_BYTES,
  tarHeaderBytes,
  type TarMemberSource,
} from "./tar.ts";

/** An object in some store. */
export interface SourceObject {
  /** The store. */
  store: ObjectStore;
  /** The key. */
  key: string;
}

/** One item to put into a shard (s3exchange's `ShardItem`). */
export interface ShardItem {
  /**
   * The bytes: in memory, a path or URL of any store, an object of a store,
   * or a stream (then `size_bytes` is required, and the shard cannot be
   * retried).
   */
  source: Uint8Array | string | SourceObject | ReadableStream<Uint8Array>;
  /** Path inside the archive. @default the source's base name */
  member_path?: string | undefined;
  /** The member's id. @default null */
  id?: string | null | undefined;
  /** The member's metadata. @default null */
  meta?: Record<string, unknown> | null | undefined;
  /** The size, when known; must match the source. */
  size_bytes?: number | null | undefined;
}

/** A shard item whose size and bytes are known. */
export interface ResolvedItem {
  /** The item. */
  item: ShardItem;
  /** Path inside the archive. */
  memberPath: string;
  /** Exact size. */
  size: number;
  /** Opens the bytes (again, unless the source is a stream). */
  open: () => Promise<ReadableStream<Uint8Array>>;
  /** Whether `open` can be called again (for retries). */
  replayable: boolean;
}

function baseName(text: string): string {
  const clean = text.replace(/[?#].*$/, "").replace(/\/+$/, "");
  return decodeURIComponent(clean.slice(clean.lastIndexOf("/") + 1));
}

/**
 * Finds the size of an item's source (a HEAD or stat) and how to open it.
 *
 * @param item The item.
 * @param options Retries, signal.
 * @returns The resolved item.
 * @throws {TypeError} When a stream source has no `size_bytes`, or `size_bytes` disagrees with the source.
 */
export async function resolveShardItem(
  item: ShardItem,
  options: ExchangeOptions = {},
): Promise<ResolvedItem> {
  const io = resolveExchangeOptions(options);
  const source = item.source;
  const given = item.size_bytes ?? undefined;
  const check = (size: number, what: string) => {
    if (given !== undefined && given !== size) {
      throw new TypeError(
        `Invalid shard item ${what}: size_bytes is ${given}, the source has ${size} bytes`,
      );
    }
  };
  if (source instanceof Uint8Array) {
    const memberPath = item.member_path ?? "";
    check(source.byteLength, `"${memberPath}"`);
    if (!memberPath) throw new TypeError("Invalid shard item: member_path is required for bytes");
    return {
      item,
      memberPath,
      size: source.byteLength,
      open: () => Promise.resolve(streamOf(source)),
      replayable: true,
    };
  }
  if (source instanceof ReadableStream) {
    const memberPath = item.member_path ?? "";
    if (!memberPath || given === undefined) {
      throw new TypeError("Invalid shard item: a stream source needs member_path and size_bytes");
    }
    return {
      item,
      memberPath,
      size: given,
      open: () => Promise.resolve(source),
      replayable: false,
    };
  }
  const { store, key } = typeof source === "string" ? openLocation(source) : source;
  const label = typeof source === "string" ? source : `${source.store}/${source.key}`;
  const memberPath = item.member_path ?? baseName(typeof source === "string" ? source : key);
  if (!memberPath) throw new TypeError(`Invalid shard item "${label}": no member_path`);
  const meta = await withRetry(() => store.head(key, { signal: io.signal }), {
    ...io.retry,
    signal: io.signal,
  });
  check(meta.size, `"${label}"`);
  return {
    item,
    memberPath,
    size: meta.size,
    open: async () => (await getVerified(store, key, { expectedSize: meta.size }, io)).stream,
    replayable: true,
  };
}

/** Options of {@linkcode createShard}. */
export interface CreateShardOptions extends ExchangeOptions {
  /** `gzip` for tar.gz, null for an uncompressed tar. @default "gzip" */
  compression?: "gzip" | null | undefined;
  /** The internal manifest's member path. @default "__manifest__.jsonl" */
  internalManifestPath?: string | undefined;
}

function internalEntry(archiveKey: string, r: ResolvedItem, offset?: number): FileEntry {
  const entry: FileEntry = {
    kind: "file",
    key: virtualKey(archiveKey, r.memberPath),
    member_path: r.memberPath,
    id: r.item.id ?? null,
    meta: r.item.meta ?? null,
    size_bytes: r.size,
  };
  if (offset !== undefined) entry.offset_bytes = offset;
  return entry;
}

const encoder = new TextEncoder();

/**
 * The internal manifest's bytes, with each member's data offset when the tar
 * is uncompressed: the offsets depend on the manifest's own padded size, so
 * they are computed until that size stops changing.
 */
async function internalManifest(
  archiveKey: string,
  items: ResolvedItem[],
  internalPath: string,
  withOffsets: boolean,
): Promise<{ bytes: Uint8Array; tarSize: number }> {
  const headers: number[] = [];
  for (const r of items) headers.push(await tarHeaderBytes(r.memberPath, r.size));
  const manifestHeader = await tarHeaderBytes(internalPath);
  const render = (manifestPadded: number | undefined) => {
    let at = manifestHeader + (manifestPadded ?? 0);
    const lines = items.map((r, i) => {
      at += headers[i]!;
      const entry = internalEntry(archiveKey, r, manifestPadded === undefined ? undefined : at);
      at += paddedSize(r.size);
      return serializeEntry(entry) + "\n";
    });
    return encoder.encode(lines.join("") || "\n");
  };
  let bytes = render(withOffsets ? 0 : undefined);
  if (withOffsets) {
    for (let padded = paddedSize(bytes.length);;) {
      bytes = render(padded);
      if (paddedSize(bytes.length) === padded) break;
      padded = paddedSize(bytes.length);
    }
  }
  const tarSize = manifestHeader + paddedSize(bytes.length) +
    items.reduce((n, r, i) => n + headers[i]! + paddedSize(r.size), 0) + TAR_END_BYTES;
  return { bytes, tarSize };
}

/**
 * Writes one shard: the internal manifest, then every item's bytes, streamed
 * from their sources into one put (through `HashStream` and a budgeted
 * `ChunkStream`); retried whole on a transient failure when every source can
 * be read again. Nothing is visible at `archiveKey` unless all of it arrived.
 *
 * @example An uncompressed shard of two members
 * ```ts
 * import { createShard } from "./shard_create.ts";
 * import { MemoryStore } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * const shard = await createShard(store, "s/shard-000001.tar", [
 *   { source: bytes("one"), member_path: "1.txt", id: "1" },
 *   { source: bytes("two"), member_path: "2.txt", meta: { n: 2 } },
 * ], { compression: null });
 * equal(shard.count, 2);
 * equal(shard.compression, null);
 * equal(shard.size_bytes, (await store.head("s/shard-000001.tar")).size);
 * ```
 *
 * @param store Where the archive goes.
 * @param archiveKey Its key.
 * @param items The members, in order (resolved or not).
 * @param options Compression, internal manifest path, budget, retries, signal.
 * @returns The shard's entry (`meta.etag` is the archive's ETag).
 */
export async function createShard(
  store: ObjectStore,
  archiveKey: string,
  items: Iterable<ShardItem | ResolvedItem> | AsyncIterable<ShardItem | ResolvedItem>,
  options: CreateShardOptions = {},
): Promise<ShardEntry> {
  const io = resolveExchangeOptions(options);
  const compression = options.compression === undefined ? "gzip" : options.compression;
  if (compression !== null && compression !== "gzip") {
    throw new TypeError(`Invalid compression "${compression}": expected "gzip" or null`);
  }
  const internalPath = options.internalManifestPath ?? INTERNAL_MANIFEST_PATH;
  const resolved = await resolveAll(items, io.pipeline);
  const seen = new Set<string>([internalPath]);
  for (const r of resolved) {
    if (seen.has(r.memberPath)) {
      throw new TypeError(
        `Invalid shard "${archiveKey}": member path "${r.memberPath}" appears twice`,
      );
    }
    seen.add(r.memberPath);
  }
  const gzip = compression === "gzip";
  const manifest = await internalManifest(archiveKey, resolved, internalPath, !gzip);
  const attempt = () => {
    const members: TarMemberSource[] = [
      {
        path: internalPath,
        size: manifest.bytes.length,
        open: () => Promise.resolve(streamOf(manifest.bytes)),
      },
      ...resolved.map((r) => ({ path: r.memberPath, size: r.size, open: r.open })),
    ];
    return putStream(store, archiveKey, packTarStream(members, { gzip }), {
      size: gzip ? undefined : manifest.tarSize,
      contentType: gzip ? "application/gzip" : "application/x-tar",
      // The packer's queue, and the input gzip has in flight on its worker.
      producerBytes: TAR_PACKER_BUFFER_BYTES + (gzip ? GZIP_IN_FLIGHT_BYTES : 0),
    }, io);
  };
  const put = resolved.every((r) => r.replayable)
    ? await withRetry(attempt, { ...io.retry, signal: io.signal })
    : await attempt();
  return {
    kind: "shard",
    archive_key: archiveKey,
    format: "tar",
    compression,
    internal_manifest_path: internalPath,
    count: resolved.length,
    size_bytes: put.size,
    meta: { etag: put.etag ?? null },
  };
}

async function resolveAll(
  items: Iterable<ShardItem | ResolvedItem> | AsyncIterable<ShardItem | ResolvedItem>,
  options: ExchangeOptions,
): Promise<ResolvedItem[]> {
  const out: ResolvedItem[] = [];
  for await (const r of resolveShardItems(items, options)) out.push(r);
  return out;
}

function isResolved(item: ShardItem | ResolvedItem): item is ResolvedItem {
  return "open" in item && "memberPath" in item;
}

/**
 * Resolves items (sizes by HEAD or stat, `maxWorkers` at a time) and yields
 * them in input order, reading the input at most a window ahead.
 *
 * @param items The items.
 * @param options Workers, retries, signal.
 * @returns The resolved items, in order.
 */
export async function* resolveShardItems(
  items: Iterable<ShardItem | ResolvedItem> | AsyncIterable<ShardItem | ResolvedItem>,
  options: ExchangeOptions = {},
): AsyncGenerator<ResolvedItem> {
  const io = resolveExchangeOptions(options);
  const window = Math.max(64, io.maxWorkers * 16);
  let batch: (ShardItem | ResolvedItem)[] = [];
  const flush = async function* () {
    const results = await mapOrdered(
      batch,
      io.maxWorkers,
      (item) => isResolved(item) ? Promise.resolve(item) : resolveShardItem(item, io.pipeline),
      { signal: io.signal },
    );
    batch = [];
    yield* results;
  };
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= window) yield* flush();
  }
  if (batch.length > 0) yield* flush();
}

/**
 * Splits resolved items into shard-sized batches as s3exchange does: a new
 * batch starts when the current one holds `maxEntries` items, or when the
 * next item would take it over `maxBytes` (a single larger item gets a batch
 * of its own).
 *
 * @example
 * ```ts
 * import { splitShardItems } from "./shard_create.ts";
 * import { deepEqual } from "node:assert/strict";
 * const items = [5, 5, 5, 20, 1].map((size, i) => ({ size, memberPath: `${i}` }));
 * const batches = [];
 * for await (const b of splitShardItems(items, { maxEntries: 2, maxBytes: 12 })) {
 *   batches.push(b.map((r) => r.memberPath));
 * }
 * deepEqual(batches, [["0", "1"], ["2"], ["3"], ["4"]]);
 * ```
 *
 * @param items Resolved items (anything with a `size`).
 * @param limits `maxEntries` and/or `maxBytes`.
 * @returns The batches.
 * @throws {RangeError} When neither limit is set, or one is not a positive integer.
 */
export async function* splitShardItems<T extends { size: number }>(
  items: Iterable<T> | AsyncIterable<T>,
  limits: { maxEntries?: number | undefined; maxBytes?: number | undefined },
): AsyncGenerator<T[]> {
  const { maxEntries, maxBytes } = limits;
  if (maxEntries === undefined && maxBytes === undefined) {
    throw new RangeError("Invalid shard size policy: set maxEntries, maxBytes or both");
  }
  for (const [name, value] of [["maxEntries", maxEntries], ["maxBytes", maxBytes]] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new RangeError(`Invalid ${name} ${value}: expected a positive integer`);
    }
  }
  let current: T[] = [];
  let bytes = 0;
  for await (const item of items) {
    const overEntries = maxEntries !== undefined && current.length >= maxEntries;
    const overBytes = maxBytes !== undefined && bytes + item.size > maxBytes;
    if (current.length > 0 && (overEntries || overBytes)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length > 0) yield current;
}

/** Options of {@linkcode createShards}. */
export interface CreateShardsOptions extends CreateShardOptions {
  /** Members per shard at most. */
  maxEntries?: number | undefined;
  /** Bytes of members per shard at most (a larger member gets a shard of its own). */
  maxBytes?: number | undefined;
}

/**
 * The next free shard number under a prefix: one after the highest
 * `shard-NNNNNN` found, so a second run does not overwrite the first's.
 */
async function nextShardNumber(
  store: ObjectStore,
  prefix: string,
  signal?: AbortSignal,
): Promise<number> {
  let highest = 0;
  try {
    for await (const item of store.list(`${prefix}/shard-`, { signal })) {
      if (item.kind !== "object") continue;
      const match = /\/shard-(\d+)\.(tar|tar\.gz|tgz)$/.exec(item.key);
      if (match) highest = Math.max(highest, Number(match[1]));
    }
  } catch (error) {
    if (!(error instanceof Error && error.name === "NotFoundError")) throw error;
  }
  return highest + 1;
}

/**
 * Writes many items as shards under `prefix` (`shard-000001.tar.gz`, … as
 * s3exchange's writer names them, numbered after any already there), split
 * by `maxEntries` / `maxBytes`, `maxWorkers` shards at a time. When one
 * fails, the shards already written are deleted and the error is thrown:
 * nothing is left behind.
 *
 * @example
 * ```ts
 * import { createShards } from "./shard_create.ts";
 * import { MemoryStore } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new MemoryStore();
 * const items = ["a", "b", "c"].map((n) => ({ source: new TextEncoder().encode(n), member_path: `${n}.txt` }));
 * const shards = await createShards(store, "job/shards", items, { maxEntries: 2 });
 * deepEqual(shards.map((s) => [s.archive_key, s.count]), [
 *   ["job/shards/shard-000001.tar.gz", 2], ["job/shards/shard-000002.tar.gz", 1],
 * ]);
 * ```
 *
 * @param store Where the shards go.
 * @param prefix The key prefix of the archives.
 * @param items The members, in order.
 * @param options Split limits, compression, workers, budget, retries, signal.
 * @returns The shard entries, in order.
 */
export async function createShards(
  store: ObjectStore,
  prefix: string,
  items: Iterable<ShardItem> | AsyncIterable<ShardItem>,
  options: CreateShardsOptions = {},
): Promise<ShardEntry[]> {
  const io = resolveExchangeOptions(options);
  const base = prefix.replace(/\/+$/, "");
  const gzip = (options.compression === undefined ? "gzip" : options.compression) === "gzip";
  const first = await nextShardNumber(store, base, io.signal);
  const resolved = resolveShardItems(items, io.pipeline);
  const batches = options.maxEntries === undefined && options.maxBytes === undefined
    ? (async function* () {
      const all: ResolvedItem[] = [];
      for await (const r of resolved) all.push(r);
      if (all.length > 0) yield all;
    })()
    : splitShardItems(resolved, options);
  const numbered = (async function* () {
    let n = first;
    for await (const batch of batches) yield { n: n++, batch };
  })();
  const written: ShardEntry[] = [];
  try {
    for await (
      const entry of pooledMap(io.maxWorkers, numbered, ({ n, batch }) =>
        createShard(
          store,
          `${base}/shard-${String(n).padStart(6, "0")}.tar${gzip ? ".gz" : ""}`,
          batch,
          {
            ...io.pipeline,
            compression: gzip ? "gzip" : null,
            internalManifestPath: options.internalManifestPath,
          },
        ), { signal: io.signal })
    ) written.push(entry);
  } catch (error) {
    for (const entry of written) await store.delete(entry.archive_key).catch(() => {});
    throw error;
  }
  return written.sort((a, b) => a.archive_key < b.archive_key ? -1 : 1);
}

/**
 * The shard items of a sources stream (one JSON object a line, as
 * `ferry shard create` reads them): `source` (a path or URL) required,
 * `member_path` defaulting to the source's base name, `id` to that without
 * its extension, `meta` and `size_bytes` optional.
 *
 * @example
 * ```ts
 * import { parseShardSources } from "./shard_create.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 * const lines = new Blob(['{"source":"/data/a/0001.wav","meta":{"sr":16000}}\n']).stream();
 * deepEqual(await Array.fromAsync(parseShardSources(lines, "stdin")), [
 *   { source: "/data/a/0001.wav", member_path: "0001.wav", id: "0001", meta: { sr: 16000 } },
 * ]);
 * await rejects(Array.fromAsync(parseShardSources(new Blob(['{"id":"x"}']).stream(), "stdin")), /line 1: missing "source"/);
 * ```
 *
 * @param stream The lines.
 * @param source Names the input in errors.
 * @returns The items.
 */
export async function* parseShardSources(
  stream: ReadableStream<Uint8Array>,
  source: string,
): AsyncGenerator<ShardItem> {
  for await (const { text, line } of textLines(stream, { source })) {
    if (text.trim() === "") continue;
    const fail = (why: string): never => {
      throw new SyntaxError(`Invalid shard source "${source}" line ${line}: ${why}`);
    };
    let value: unknown;
    try {
      value = parseJsonPreservingNumbers(text).value;
    } catch (error) {
      fail(`invalid JSON (${(error as Error).message})`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      fail("expected a JSON object");
    }
    const row = value as Record<string, unknown>;
    if (typeof row.source !== "string" || row.source === "") {
      fail('missing "source" (a path or URL)');
    }
    const path = row.member_path ?? baseName(row.source as string);
    if (typeof path !== "string" || path === "") fail('"member_path" must be a non-empty string');
    const item: ShardItem = {
      source: row.source as string,
      member_path: path as string,
      id: row.id === undefined ? inferIdFromKey(path as string) : row.id as string | null,
    };
    if (row.meta !== undefined) item.meta = row.meta as Record<string, unknown> | null;
    if (row.size_bytes !== undefined && row.size_bytes !== null) {
      if (!Number.isSafeInteger(row.size_bytes) || (row.size_bytes as number) < 0) {
        fail('"size_bytes" must be an integer >= 0');
      }
      item.size_bytes = row.size_bytes as number;
    }
    yield item;
  }
}
