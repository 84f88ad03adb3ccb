/**
 * Reading manifests: entries with `manifest_ref`s resolved depth-first
 * (each manifest read once, so cycles stop), a missing reference named with
 * the manifest that holds it, an optional limit; file entries with shard
 * members expanded; a key-prefix filter that sees shard members' virtual
 * keys. Manifests are streamed line by line, never loaded whole.
 *
 * The manifest named by the caller is read with its pending references (see
 * `append.ts`): those an appender has published but not yet merged into the
 * root, which s3exchange cannot see until they are.
 *
 * @module
 */
import { NotFoundError, NotSupportedError, type ObjectStore } from "../stores/mod.ts";
import {
  type FileEntry,
  isFileEntry,
  isManifestRef,
  isShardEntry,
  type ManifestEntry,
  type ManifestRefEntry,
  parseEntries,
} from "./entries.ts";
import { ManifestNotFoundError } from "./errors.ts";
import { pendingRefsPrefix } from "./keys.ts";
import { getVerified } from "./_io.ts";
import { type ExchangeOptions, resolveExchangeOptions } from "./options.ts";
import { readShardManifest } from "./shards.ts";

/** Options of {@linkcode readManifest}. */
export interface ReadManifestOptions extends ExchangeOptions {
  /** Inline the entries of referenced manifests. @default true */
  resolveRefs?: boolean | undefined;
  /** Stop after this many entries. */
  limit?: number | undefined;
  /** Also read the named manifest's pending references. @default true */
  pendingRefs?: boolean | undefined;
}

/**
 * The entries of one manifest file, streamed; a missing file is a
 * {@linkcode ManifestNotFoundError}.
 *
 * @param store The store.
 * @param key The manifest's key.
 * @param options Retries, signal; `referencedBy` names the referring manifest in errors.
 * @returns The entries, refs unresolved.
 */
export async function* readManifestFile(
  store: ObjectStore,
  key: string,
  options: ExchangeOptions & { referencedBy?: string | undefined } = {},
): AsyncGenerator<ManifestEntry> {
  const io = resolveExchangeOptions(options);
  let body;
  try {
    body = await getVerified(store, key, {}, io);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new ManifestNotFoundError(key, { referencedBy: options.referencedBy, cause: error });
    }
    throw error;
  }
  yield* parseEntries(body.stream, { source: key });
}

/**
 * The references appenders published for `rootKey` and have not merged yet
 * (empty for stores that cannot list).
 *
 * @param store The store.
 * @param rootKey The root manifest's key.
 * @param options Retries, signal.
 * @returns The pending objects' keys and their references, oldest first.
 */
export async function pendingRefs(
  store: ObjectStore,
  rootKey: string,
  options: ExchangeOptions = {},
): Promise<{ key: string; refs: ManifestRefEntry[] }[]> {
  const keys: string[] = [];
  try {
    for await (const item of store.list(pendingRefsPrefix(rootKey), { signal: options.signal })) {
      if (item.kind === "object") keys.push(item.key);
    }
  } catch (error) {
    if (error instanceof NotSupportedError || error instanceof NotFoundError) return [];
    throw error;
  }
  keys.sort();
  const out: { key: string; refs: ManifestRefEntry[] }[] = [];
  for (const key of keys) {
    const refs: ManifestRefEntry[] = [];
    try {
      for await (const entry of readManifestFile(store, key, options)) {
        if (isManifestRef(entry)) refs.push(entry);
      }
    } catch (error) {
      // Merged and removed by another appender since the listing.
      if (error instanceof ManifestNotFoundError) continue;
      throw error;
    }
    out.push({ key, refs });
  }
  return out;
}

/**
 * The entries of a manifest, with references resolved depth-first: a
 * `manifest_ref` is replaced by the entries of the manifest it names, a
 * manifest already read is not read again (cycles stop), a missing one is a
 * {@linkcode ManifestNotFoundError} naming it and its referrer.
 *
 * @example A root with a part
 * ```ts
 * import { readManifest } from "./manifest_reader.ts";
 * import { MemoryStore, putBytes } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new MemoryStore();
 * const text = (s: string) => new TextEncoder().encode(s);
 * await putBytes(store, "m/manifest.jsonl", text('{"kind":"file","key":"a"}\n{"kind":"manifest_ref","key":"m/p.jsonl"}\n'));
 * await putBytes(store, "m/p.jsonl", text('{"kind":"file","key":"b"}\n{"kind":"manifest_ref","key":"m/manifest.jsonl"}\n'));
 * const keys = [];
 * for await (const e of readManifest(store, "m/manifest.jsonl")) keys.push(e.key);
 * deepEqual(keys, ["a", "b"]);
 * ```
 *
 * @param store The store holding the manifests.
 * @param key The manifest's key.
 * @param options Refs, limit, pending refs, retries, signal.
 * @returns The entries.
 */
export async function* readManifest(
  store: ObjectStore,
  key: string,
  options: ReadManifestOptions = {},
): AsyncGenerator<ManifestEntry> {
  const resolveRefs = options.resolveRefs ?? true;
  const limit = options.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new RangeError(`Invalid limit ${limit}: expected an integer >= 0`);
  }
  const visited = new Set<string>();
  let count = 0;
  const full = () => limit !== undefined && count >= limit;
  const walk = async function* (
    manifestKey: string,
    referencedBy: string | undefined,
  ): AsyncGenerator<ManifestEntry> {
    if (visited.has(manifestKey) || full()) return;
    visited.add(manifestKey);
    for await (const entry of readManifestFile(store, manifestKey, { ...options, referencedBy })) {
      if (full()) return;
      if (resolveRefs && isManifestRef(entry)) {
        yield* walk(entry.key, manifestKey);
      } else {
        count++;
        yield entry;
      }
    }
  };
  const topRefs = new Set<string>();
  for await (const entry of walk(key, undefined)) {
    if (!resolveRefs && isManifestRef(entry)) topRefs.add(entry.key);
    yield entry;
  }
  if (options.pendingRefs === false || full()) return;
  for (const pending of await pendingRefs(store, key, options)) {
    for (const ref of pending.refs) {
      if (full()) return;
      if (resolveRefs) {
        yield* walk(ref.key, pending.key);
      } else if (!topRefs.has(ref.key)) {
        topRefs.add(ref.key);
        count++;
        yield ref;
      }
    }
  }
}

/** Options of {@linkcode listManifestFiles}. */
export interface ListFilesOptions extends ExchangeOptions {
  /** List shard members as file entries instead of the shard entries. @default true */
  expandShards?: boolean | undefined;
  /** Only entries whose key (a member's virtual key) starts with this. */
  prefix?: string | undefined;
  /** Stop after this many entries. */
  limit?: number | undefined;
}

/**
 * The file entries of a manifest (refs resolved), with shards expanded into
 * their members' entries (`archive_key`, `member_path` and the virtual key
 * added, as s3exchange's `list_files`) or kept as shard entries. Only each
 * shard's internal manifest is read, not its members.
 *
 * @example Filtering by key prefix
 * ```ts
 * import { listManifestFiles } from "./manifest_reader.ts";
 * import { MemoryStore, putBytes } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new MemoryStore();
 * await putBytes(store, "m.jsonl", new TextEncoder().encode('{"kind":"file","key":"a/1"}\n{"kind":"file","key":"b/2"}\n'));
 * const keys = [];
 * for await (const e of listManifestFiles(store, "m.jsonl", { prefix: "b/" })) keys.push(e.key);
 * deepEqual(keys, ["b/2"]);
 * ```
 *
 * @param store The store.
 * @param key The manifest's key.
 * @param options Expansion, prefix filter, limit, retries, signal.
 * @returns File entries (and shard entries when not expanding).
 * @throws {ShardReadError} When a shard's internal manifest cannot be read.
 */
export async function* listManifestFiles(
  store: ObjectStore,
  key: string,
  options: ListFilesOptions = {},
): AsyncGenerator<FileEntry | ManifestEntry> {
  const expand = options.expandShards ?? true;
  const prefix = options.prefix;
  let count = 0;
  const take = (entryKey: string) =>
    (prefix === undefined || entryKey.startsWith(prefix)) &&
    (options.limit === undefined || count < options.limit);
  for await (const entry of readManifest(store, key, { ...options, limit: undefined })) {
    if (options.limit !== undefined && count >= options.limit) return;
    if (isFileEntry(entry)) {
      if (take(entry.key)) {
        count++;
        yield entry;
      }
    } else if (isShardEntry(entry)) {
      if (!expand) {
        if (take(entry.archive_key)) {
          count++;
          yield entry;
        }
        continue;
      }
      for (const member of await readShardManifest(store, entry, options)) {
        const path = typeof member.member_path === "string" ? member.member_path : "";
        const enriched: FileEntry = {
          ...member,
          archive_key: entry.archive_key,
          member_path: path,
        };
        if (take(enriched.key)) {
          count++;
          yield enriched;
        }
      }
    }
  }
}
