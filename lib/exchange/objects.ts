/**
 * Objects and their entries: writing one (from bytes, a path or URL, an
 * object of any store, a stream) and getting its file entry; reading one by
 * key or virtual key (`archive#member`); the objects of a manifest as
 * streams with their entries; downloading a manifest's objects or a list of
 * keys into a folder, shard members extracted, atomically.
 *
 * @module
 */
import {
  FileStore,
  NotFoundError,
  type ObjectStore,
  openLocation,
  StoreError,
} from "../stores/mod.ts";
import { md5OfEtag, pooledMap, runTransfers, type TransferTask } from "../pipeline/mod.ts";
import {
  type FileEntry,
  isFileEntry,
  isShardEntry,
  numberField,
  type ShardEntry,
} from "./entries.ts";
import { inferIdFromKey, splitVirtualKey } from "./keys.ts";
import { getVerified, putBytesRetrying, putStream } from "./_io.ts";
import { type ExchangeOptions, resolveExchangeOptions } from "./options.ts";
import { readManifest } from "./manifest_reader.ts";
import { openShardMember, readShardMembers, shardEntryForKey } from "./shards.ts";
import { checkExtractable, unsafePathReason } from "./tar.ts";
import { noteReleasedBytes } from "../reclaim.ts";
import type { SourceObject } from "./shard_create.ts";
import { pathExists } from "../fs.ts";
import { concatBytes } from "../bytes.ts";

/** What an object can be written from. */
export type PutSource = Uint8Array | string | SourceObject | ReadableStream<Uint8Array>;

/** Options of {@linkcode putObject}. */
export interface PutObjectOptions extends ExchangeOptions {
  /** The entry's id. @default the key's base name without extension */
  id?: string | null | undefined;
  /** The entry's metadata. @default null */
  meta?: Record<string, unknown> | null | undefined;
  /** The content type (stored and put in the entry). @default null */
  contentType?: string | undefined;
}

/**
 * Writes an object and returns its file entry with the size and ETag the
 * store reports (s3exchange's `put_object`). Bytes and streams go through
 * `HashStream` into the put; a path, URL or object of a store is copied by
 * the transfer engine (checked in flight, retried whole).
 *
 * @example
 * ```ts
 * import { putObject } from "./objects.ts";
 * import { MemoryStore } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const entry = await putObject(new MemoryStore(), "a/b.txt", new TextEncoder().encode("hi"), { meta: { n: 1 } });
 * deepEqual(Object.keys(entry), ["kind", "key", "id", "meta", "content_type", "size_bytes", "etag"]);
 * deepEqual([entry.id, entry.size_bytes], ["b", 2]);
 * ```
 *
 * @param store Where the object goes.
 * @param key Its key.
 * @param data The bytes.
 * @param options Id, meta, content type, budget, retries, signal.
 * @returns The file entry.
 */
export async function putObject(
  store: ObjectStore,
  key: string,
  data: PutSource,
  options: PutObjectOptions = {},
): Promise<FileEntry> {
  const io = resolveExchangeOptions(options);
  const contentType = options.contentType;
  let size: number;
  let etag: string | undefined;
  if (data instanceof Uint8Array) {
    ({ size, etag } = await putBytesRetrying(store, key, data, { contentType }, io));
  } else if (data instanceof ReadableStream) {
    ({ size, etag } = await putStream(store, key, data, { contentType }, io));
  } else {
    const source = typeof data === "string" ? openLocation(data) : data;
    const task: TransferTask = {
      source: { store: source.store, key: source.key },
      destination: { store, key },
      ifExists: "overwrite",
      contentType,
    };
    let result;
    for await (const r of runTransfers([task], { ...io.pipeline, maxWorkers: 1 })) result = r;
    if (!result || result.status === "failed") {
      throw result?.error ?? new StoreError(`Cannot copy to "${key}"`, { key });
    }
    size = result.size ?? 0;
    etag = result.destination?.etag;
  }
  return {
    kind: "file",
    key,
    id: options.id === undefined ? inferIdFromKey(key) : options.id,
    meta: options.meta ?? null,
    content_type: contentType ?? null,
    size_bytes: size,
    etag: etag ?? null,
  };
}

/** An object's bytes with its entry. */
export interface ObjectWithEntry {
  /** The file entry (for a member: enriched with `archive_key` and `member_path`). */
  entry: FileEntry;
  /** The bytes (size-checked when the entry knows the size). */
  body: ReadableStream<Uint8Array>;
}

/**
 * Opens an object by key; a key with `#` is first taken as the virtual key
 * of a shard member (`archive#member`), and as a plain key when no archive
 * is there, as s3exchange does.
 *
 * @example
 * ```ts
 * import { getObject } from "./objects.ts";
 * import { createShard } from "./shard_create.ts";
 * import { MemoryStore } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * await createShard(store, "s.tar", [{ source: new TextEncoder().encode("x"), member_path: "m.txt" }], { compression: null });
 * const { entry, body } = await getObject(store, "s.tar#m.txt");
 * equal(entry.member_path, "m.txt");
 * equal(await new Response(body).text(), "x");
 * ```
 *
 * @param store The store.
 * @param key A key or virtual key.
 * @param options Budget, retries, signal.
 * @returns The entry and the bytes.
 * @throws {NotFoundError} When neither the member nor a plain object is there.
 */
export async function getObject(
  store: ObjectStore,
  key: string,
  options: ExchangeOptions = {},
): Promise<ObjectWithEntry> {
  const io = resolveExchangeOptions(options);
  const virtual = splitVirtualKey(key);
  if (virtual) {
    try {
      const found = await openShardMember(
        store,
        shardEntryForKey(virtual.archiveKey),
        virtual.memberPath,
        io.pipeline,
      );
      if (!found) throw new NotFoundError(`Object not found: "${key}"`, { key });
      return found;
    } catch (error) {
      if (!(error instanceof NotFoundError) || error.key !== virtual.archiveKey) throw error;
    }
  }
  const meta = await store.head(key, { signal: io.signal });
  const { stream } = await getVerified(store, key, { expectedSize: meta.size }, io);
  return {
    entry: {
      kind: "file",
      key,
      id: inferIdFromKey(key),
      size_bytes: meta.size,
      etag: meta.etag ?? null,
      content_type: meta.contentType ?? null,
    },
    body: stream,
  };
}

/** Options of {@linkcode iterObjects}. */
export interface IterObjectsOptions extends ExchangeOptions {
  /** Yield shard members instead of whole archives. @default true */
  expandShards?: boolean | undefined;
  /** Stop after this many objects. */
  limit?: number | undefined;
}

/**
 * The objects of a manifest (refs resolved) as streams with their entries,
 * in manifest order; shard members streamed from one read of their archive.
 * Read or cancel each body before asking for the next.
 *
 * @param store The store.
 * @param manifestKey The manifest's key.
 * @param options Shard expansion, limit, budget, retries, signal.
 * @returns The objects.
 */
export async function* iterObjects(
  store: ObjectStore,
  manifestKey: string,
  options: IterObjectsOptions = {},
): AsyncGenerator<ObjectWithEntry | { entry: ShardEntry; body: ReadableStream<Uint8Array> }> {
  const io = resolveExchangeOptions(options);
  const expand = options.expandShards ?? true;
  let count = 0;
  const full = () => options.limit !== undefined && count >= options.limit;
  for await (const entry of readManifest(store, manifestKey, io.pipeline)) {
    if (full()) return;
    if (isFileEntry(entry)) {
      const { stream } = await getVerified(store, entry.key, {
        expectedSize: numberField(entry.size_bytes),
      }, io);
      count++;
      yield { entry, body: stream };
    } else if (isShardEntry(entry) && expand) {
      for await (const member of readShardMembers(store, entry, io.pipeline)) {
        if (full()) return;
        count++;
        yield { entry: member.entry, body: member.body };
      }
    } else if (isShardEntry(entry)) {
      const { stream } = await getVerified(store, entry.archive_key, {
        expectedSize: numberField(entry.size_bytes),
      }, io);
      count++;
      yield { entry, body: stream };
    }
  }
}

/** What a download did. */
export interface DownloadReport {
  /** The output folder. */
  output_dir: string;
  /** Objects written (shard members included). */
  objects: number;
  /** Bytes written. */
  bytes: number;
  /** Loose objects copied. */
  files: number;
  /** Shards whose members were extracted. */
  shards: number;
}

/** Where downloaded objects are staged until all arrived, then moved into place. */
class Staging {
  readonly dir: string;
  readonly output: string;
  readonly #paths = new Map<string, string>();

  constructor(output: string) {
    this.output = output.replace(/\/+$/, "") || "/";
    this.dir = `${this.output}/.ferry-staging-${crypto.randomUUID()}`;
  }

  claim(path: string, key: string): string {
    const unsafe = unsafePathReason(path);
    if (unsafe) throw new TypeError(`Cannot download "${key}" to "${path}": ${unsafe}`);
    const normal = path.split("/").filter((s) => s !== "" && s !== ".").join("/");
    const other = this.#paths.get(normal);
    if (other !== undefined) {
      throw new TypeError(
        `Cannot download "${key}": "${other}" is written to the same path "${normal}"`,
      );
    }
    this.#paths.set(normal, key);
    return normal;
  }

  readonly #folders = new Set<string>();

  /** Makes a folder once per download. */
  async folder(path: string): Promise<void> {
    if (this.#folders.has(path)) return;
    await Deno.mkdir(path, { recursive: true });
    this.#folders.add(path);
  }

  /**
   * Moves everything staged into place: a staged folder whose target does
   * not exist yet moves in one rename, otherwise its entries are merged one
   * by one (a file replaces the one there, as `tar -x` does).
   */
  async commit(): Promise<void> {
    await this.#merge(this.dir, this.output);
    await Deno.remove(this.dir, { recursive: true });
  }

  async #merge(from: string, to: string): Promise<void> {
    for await (const entry of Deno.readDir(from)) {
      const source = `${from}/${entry.name}`;
      const target = `${to}/${entry.name}`;
      const existing = await Deno.lstat(target).catch(() => undefined);
      if (entry.isDirectory && existing?.isDirectory) {
        await this.#merge(source, target);
      } else {
        if (existing?.isDirectory) {
          throw new TypeError(`Cannot write "${target}": a folder is there`);
        }
        await Deno.rename(source, target);
      }
    }
  }

  async discard(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    // A folder made for this download goes too (only when empty).
    if (this.createdOutput) await Deno.remove(this.output).catch(() => {});
  }

  createdOutput = false;

  async open(): Promise<void> {
    this.createdOutput = !(await pathExists(this.output));
    await Deno.mkdir(this.dir, { recursive: true });
  }
}

/** Members up to this size are collected and written in one call: most of a shard's members. */
const SMALL_MEMBER_BYTES = 1024 * 1024;

async function writeFile(
  staging: Staging,
  path: string,
  body: ReadableStream<Uint8Array>,
  size: number,
): Promise<void> {
  await staging.folder(path.slice(0, path.lastIndexOf("/")));
  if (size > SMALL_MEMBER_BYTES) {
    const file = await Deno.open(path, { write: true, createNew: true });
    await body.pipeTo(file.writable);
    return;
  }
  // One write instead of a stream per small file; the bytes are a member's, bounded above.
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  await Deno.writeFile(path, concatBytes(parts), { createNew: true });
}

async function extractShard(
  store: ObjectStore,
  shard: ShardEntry,
  staging: Staging,
  options: ExchangeOptions,
  only?: Map<string, string>,
): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  const archiveKey = shard.archive_key;
  const members = readShardMembers(store, shard, {
    ...options,
    check: (m) => void checkExtractable(m.header, m.index, archiveKey),
  });
  for await (const member of members) {
    const path = member.entry.member_path ?? member.member.header.name;
    if (only && !only.has(path)) {
      await member.body.cancel();
      continue;
    }
    const target = staging.claim(only?.get(path) ?? path, member.entry.key);
    await writeFile(staging, `${staging.dir}/${target}`, member.body, member.member.header.size);
    objects++;
    bytes += member.member.header.size;
    noteReleasedBytes(member.member.header.size);
    only?.delete(path);
  }
  if (only && only.size > 0) {
    const [missing] = only.keys();
    throw new NotFoundError(`Object not found: "${archiveKey}#${missing}"`, {
      key: `${archiveKey}#${missing}`,
    });
  }
  return { objects, bytes };
}

async function copyFiles(
  tasks: AsyncIterable<TransferTask> | Iterable<TransferTask>,
  options: ExchangeOptions,
): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for await (const result of runTransfers(tasks, options)) {
    if (result.status === "failed") throw result.error ?? new Error("Transfer failed");
    objects++;
    bytes += result.size ?? 0;
  }
  return { objects, bytes };
}

function fileTask(
  store: ObjectStore,
  entry: FileEntry,
  staging: FileStore,
  path: string,
): TransferTask {
  return {
    source: { store, key: entry.key },
    destination: { store: staging, key: path },
    expected: { size: numberField(entry.size_bytes), md5: md5OfEtag(entry.etag ?? undefined) },
    ifExists: "overwrite",
  };
}

/**
 * Downloads every object of a manifest into a folder: loose objects at
 * `DIR/<key>` (copied by the transfer engine, checked against the entry's
 * size and MD5 ETag), shard members at `DIR/<member_path>` (each archive read
 * once, `maxWorkers` archives at a time). Everything is staged inside the
 * folder and moved into place only when all arrived: on any error (a bad
 * member path, a link pointing outside, a device file, two objects for one
 * path, a checksum mismatch) nothing is written.
 *
 * @param store The store.
 * @param manifestKey The manifest's key.
 * @param outputDir The folder (created when missing).
 * @param options Workers, budget, retries, signal.
 * @returns What was written.
 */
export function downloadManifest(
  store: ObjectStore,
  manifestKey: string,
  outputDir: string,
  options: ExchangeOptions = {},
): Promise<DownloadReport> {
  return stagedDownload(store, outputDir, options, (staging, stagingStore, io) => {
    const shards: ShardEntry[] = [];
    const files = async function* () {
      for await (const entry of readManifest(store, manifestKey, io.pipeline)) {
        if (isShardEntry(entry)) shards.push(entry);
        else if (isFileEntry(entry)) {
          yield fileTask(store, entry, stagingStore, staging.claim(entry.key, entry.key));
        }
      }
    };
    // The shards are known once the manifest has been read, i.e. after the files.
    return Promise.resolve({ files: files(), shards: () => shards.map((entry) => ({ entry })) });
  });
}

/**
 * Downloads objects by key (virtual keys of shard members included, each
 * archive read once for all its requested members) into a folder: a loose
 * object at `DIR/<key>`, a member at `DIR/<member_path>`; atomically, as
 * {@linkcode downloadManifest}.
 *
 * @param store The store.
 * @param keys Keys and virtual keys.
 * @param outputDir The folder.
 * @param options Workers, budget, retries, signal.
 * @returns What was written.
 */
export function downloadObjects(
  store: ObjectStore,
  keys: Iterable<string>,
  outputDir: string,
  options: ExchangeOptions = {},
): Promise<DownloadReport> {
  const plain: string[] = [];
  const byArchive = new Map<string, Map<string, string>>();
  for (const key of keys) {
    const virtual = splitVirtualKey(key);
    if (!virtual) {
      plain.push(key);
      continue;
    }
    const members = byArchive.get(virtual.archiveKey) ?? new Map<string, string>();
    members.set(virtual.memberPath, virtual.memberPath);
    byArchive.set(virtual.archiveKey, members);
  }
  return stagedDownload(store, outputDir, options, async (staging, stagingStore, io) => {
    for (const [archiveKey, members] of byArchive) {
      try {
        await store.head(archiveKey, { signal: io.signal });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        // No such archive: the keys are plain keys with a `#`, as s3exchange reads them.
        byArchive.delete(archiveKey);
        for (const member of members.keys()) plain.push(`${archiveKey}#${member}`);
      }
    }
    return {
      files: plain.map((key) =>
        fileTask(store, { kind: "file", key }, stagingStore, staging.claim(key, key))
      ),
      shards: () =>
        [...byArchive].map(([archiveKey, members]) => ({
          entry: shardEntryForKey(archiveKey),
          members,
        })),
    };
  });
}

interface DownloadPlan {
  files: AsyncIterable<TransferTask> | Iterable<TransferTask>;
  /** Called once the files are in: the archives to extract, with the members wanted. */
  shards: () => { entry: ShardEntry; members?: Map<string, string> }[];
}

/** Stages a download inside `outputDir` and moves it into place only when all of it arrived. */
async function stagedDownload(
  store: ObjectStore,
  outputDir: string,
  options: ExchangeOptions,
  plan: (
    staging: Staging,
    stagingStore: FileStore,
    io: ReturnType<typeof resolveExchangeOptions>,
  ) => Promise<DownloadPlan>,
): Promise<DownloadReport> {
  const io = resolveExchangeOptions(options);
  const staging = new Staging(outputDir);
  const stagingStore = new FileStore({ root: staging.dir });
  const report: DownloadReport = {
    output_dir: staging.output,
    objects: 0,
    bytes: 0,
    files: 0,
    shards: 0,
  };
  try {
    await staging.open();
    const { files, shards } = await plan(staging, stagingStore, io);
    const copied = await copyFiles(files, io.pipeline);
    report.files = copied.objects;
    report.objects += copied.objects;
    report.bytes += copied.bytes;
    for await (
      const done of pooledMap(
        io.maxWorkers,
        shards(),
        ({ entry, members }) => extractShard(store, entry, staging, io.pipeline, members),
        { signal: io.signal },
      )
    ) {
      report.shards++;
      report.objects += done.objects;
      report.bytes += done.bytes;
    }
    await staging.commit();
  } catch (error) {
    await staging.discard();
    throw error;
  }
  return report;
}
