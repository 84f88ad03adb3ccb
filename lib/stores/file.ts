/**
 * Local files as a store. Writes go to a temporary file in the destination
 * folder and are renamed into place, so a reader never sees half an object.
 *
 * @module
 */
import { checkKey, commonPrefixOf, compareKeys } from "./_keys.ts";
import {
  ConflictError,
  InvalidInputError,
  isRuntimePermissionFailure,
  NotFoundError,
  PermissionDeniedError,
  StoreError,
} from "./errors.ts";
import type {
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
  UrlProvider,
} from "./store.ts";
import { checkRange, normalizeEtag, resolveRange } from "./store.ts";
import { formatHref } from "./location.ts";

/** Marks files that are uploads in progress; listings skip them. */
export const TEMP_MARKER = ".ferry-tmp-";

/** Options of {@linkcode FileStore}. */
export interface FileStoreOptions {
  /** The folder keys are relative to. @default "/" */
  root?: string | undefined;
}

/**
 * Objects as files under a root folder. ETags are derived from inode, mtime
 * and size (as object_store's LocalFileSystem does), so they change whenever
 * the file does.
 *
 * @example Writing and listing files
 * ```ts
 * import { FileStore } from "./file.ts";
 * import { listAll, putBytes } from "./ext.ts";
 * import { equal } from "node:assert/strict";
 * const root = await Deno.makeTempDir();
 * const store = new FileStore({ root });
 * await putBytes(store, "a/b.bin", new Uint8Array(5));
 * equal((await store.head("a/b.bin")).size, 5);
 * equal((await listAll(store, "", "/"))[0]?.kind, "prefix");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class FileStore implements ObjectStore, ConditionalPutter, UrlProvider, PutChecker {
  /** A file's ETag (inode, mtime, size) says nothing about its bytes. */
  readonly putCheck = "none" as const;
  /** A create-only put is a hard link, which fails when the key exists. */
  readonly exclusiveCreate = true;
  /** The folder keys are relative to, ending in `/`. */
  readonly root: string;

  /**
   * Creates a `FileStore`
   *
   * @param options The root folder.
   */
  constructor(options: FileStoreOptions = {}) {
    const root = options.root ?? "/";
    this.root = root.endsWith("/") ? root : root + "/";
  }

  #path(key: string): string {
    checkKey(key, String(this));
    return this.root + key;
  }

  #classify(error: unknown, key: string, action: string): never {
    const options = { store: String(this), key, cause: error };
    if (error instanceof StoreError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`Object not found: "${key}"`, options);
    }
    if (isRuntimePermissionFailure(error)) {
      throw new PermissionDeniedError(
        `Permission denied to ${action} "${this.root}${key}": ${(error as Error).message}`,
        options,
      );
    }
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new ConflictError(`Object already exists: "${key}"`, options);
    }
    if (error instanceof Deno.errors.IsADirectory || error instanceof Deno.errors.NotADirectory) {
      throw new InvalidInputError(`Not a file: "${this.root}${key}"`, options);
    }
    throw new StoreError(`Failed to ${action} "${this.root}${key}": ${String(error)}`, options);
  }

  #meta(key: string, info: Deno.FileInfo): ObjectMeta {
    const mtime = info.mtime?.getTime() ?? 0;
    return {
      key,
      size: info.size,
      etag: `${(info.ino ?? 0).toString(16)}-${Math.round(mtime * 1000).toString(16)}-${
        info.size.toString(16)
      }`,
      lastModified: info.mtime ?? undefined,
      contentType: undefined,
    };
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  async head(key: string): Promise<ObjectMeta> {
    const path = this.#path(key);
    try {
      const info = await Deno.stat(path);
      if (!info.isFile) {
        throw new NotFoundError(`Object not found: "${key}"`, { store: String(this), key });
      }
      return this.#meta(key, info);
    } catch (error) {
      this.#classify(error, key, "stat");
    }
  }

  /** The object's bytes, whole or a range, as a web stream */
  async get(key: string, options: GetOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const path = this.#path(key);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (error) {
      this.#classify(error, key, "read");
    }
    try {
      const info = await file.stat();
      if (!info.isFile) {
        throw new NotFoundError(`Object not found: "${key}"`, { store: String(this), key });
      }
      let [start, end] = [0, info.size];
      if (options.range) {
        checkRange(options.range);
        [start, end] = resolveRange(options.range, info.size);
      }
      if (start > 0) await file.seek(start, Deno.SeekMode.Start);
      return boundedFileStream(file, end - start, options.signal);
    } catch (error) {
      file.close();
      this.#classify(error, key, "read");
    }
  }

  /** Writes the stream to `key` atomically: readers see the old object or the whole new one */
  async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const path = this.#path(key);
    const temp = await this.#writeTemp(key, path, body, options);
    try {
      await Deno.rename(temp.path, path);
    } catch (error) {
      await Deno.remove(temp.path).catch(() => {});
      this.#classify(error, key, "write");
    }
    return { size: temp.size, etag: (await this.head(key)).etag };
  }

  /**
   * `ifNoneMatch: "*"` is exact (a hard link fails when the key exists);
   * `ifMatch` holds an exclusive lock on the destination while it compares
   * and renames, which serialises ferry's own writers.
   */
  async putIf(
    key: string,
    body: ReadableStream<Uint8Array>,
    condition: PutCondition,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const path = this.#path(key);
    const temp = await this.#writeTemp(key, path, body, options);
    try {
      if ("ifNoneMatch" in condition) {
        await Deno.link(temp.path, path);
      } else {
        const lock = await Deno.open(path + ".ferry-lock", { create: true, write: true });
        try {
          await lock.lock(true);
          const current = await this.head(key).catch(() => undefined);
          if (current?.etag !== normalizeEtag(condition.ifMatch)) {
            throw new ConflictError(`Precondition failed for "${key}"`, {
              store: String(this),
              key,
            });
          }
          await Deno.rename(temp.path, path);
        } finally {
          lock.close();
        }
      }
    } catch (error) {
      this.#classify(error, key, "write");
    } finally {
      await Deno.remove(temp.path).catch(() => {});
    }
    return { size: temp.size, etag: (await this.head(key)).etag };
  }

  async #writeTemp(
    key: string,
    path: string,
    body: ReadableStream<Uint8Array>,
    options: PutOptions,
  ): Promise<{ path: string; size: number }> {
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    const temp = `${dir}/${TEMP_MARKER}${crypto.randomUUID()}`;
    let size = 0;
    try {
      const file = await openInNewDir(dir, temp);
      const counted = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            size += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
      );
      await counted.pipeTo(file.writable, { signal: options.signal });
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      this.#classify(error, key, "write");
    }
    return { path: temp, size };
  }

  /** Deletes the file and the folders the delete leaves empty, up to the root. */
  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    try {
      await Deno.remove(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      this.#classify(error, key, "delete");
    }
    let dir = path.slice(0, path.lastIndexOf("/"));
    while (dir.length + 1 > this.root.length && dir + "/" !== this.root) {
      try {
        await Deno.remove(dir);
      } catch {
        break;
      }
      dir = dir.slice(0, dir.lastIndexOf("/"));
    }
  }

  /** Every object under `prefix` (all pages), in key order */
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    let lastPrefix: string | undefined;
    for await (const [key, info] of this.#walk(base, prefix, options)) {
      const group = commonPrefixOf(key, prefix, options.delimiter);
      if (group !== undefined) {
        if (group !== lastPrefix) yield { kind: "prefix", prefix: group };
        lastPrefix = group;
        continue;
      }
      yield { kind: "object", ...this.#meta(key, info) };
    }
  }

  /** Yields files under `dir` whose keys start with `prefix`, in key byte order. */
  async *#walk(
    dir: string,
    prefix: string,
    options: ListOptions,
  ): AsyncGenerator<[string, Deno.FileInfo]> {
    options.signal?.throwIfAborted();
    let names: { name: string; isDir: boolean }[] = [];
    try {
      for await (const e of Deno.readDir(this.root + dir)) {
        if (e.name.startsWith(TEMP_MARKER) || e.name.endsWith(".ferry-lock")) continue;
        names.push({ name: e.isDirectory ? e.name + "/" : e.name, isDir: e.isDirectory });
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        return;
      }
      this.#classify(error, dir, "list");
    }
    names = names.filter((e) => {
      const key = dir + e.name;
      return key.startsWith(prefix) || prefix.startsWith(key);
    });
    names.sort((a, b) => compareKeys(a.name, b.name));
    for (const entry of names) {
      const key = dir + entry.name;
      if (entry.isDir) {
        // A whole folder collapses into one prefix entry: no need to walk it.
        if (options.delimiter === "/" && key.startsWith(prefix) && key.length > prefix.length) {
          yield* this.#firstFile(key, options);
          continue;
        }
        yield* this.#walk(key, prefix, options);
      } else if (key.startsWith(prefix)) {
        let info: Deno.FileInfo;
        try {
          info = await Deno.stat(this.root + key);
        } catch {
          continue; // deleted meanwhile
        }
        yield [key, info];
      }
    }
  }

  /** Yields one file under `dir` (enough to report the folder as a prefix). */
  async *#firstFile(dir: string, options: ListOptions): AsyncGenerator<[string, Deno.FileInfo]> {
    for await (const found of this.#walk(dir, dir, { ...options, delimiter: undefined })) {
      yield found;
      return;
    }
  }

  /**
   * The URL of `key`, with no credentials in it
   *
   * @returns A `file://` URL of the key.
   */
  urlOf(key: string): string {
    return fileUrlOf(this.#path(key));
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `FileStore(root)`.
   */
  toString(): string {
    return `FileStore(${this.root})`;
  }
}

/**
 * The `file://` URL of an absolute path, percent-encoding what a URL cannot
 * carry raw.
 *
 * @param path An absolute path.
 * @returns The URL.
 */
export function fileUrlOf(path: string): string {
  return formatHref({
    store_type: "file",
    store_container: null,
    store_endpoint_url: null,
    key: path,
  });
}
function boundedFileStream(
  file: Deno.FsFile,
  length: number,
  signal: AbortSignal | undefined,
): ReadableStream<Uint8Array> {
  let remaining = length;
  // Each read is a thread-pool round trip: 256 KiB reads take a third of the
  // time 64 KiB ones do, and match the pipeline's default chunk, which then
  // passes them on without a copy. Each is a fresh buffer handed to the
  // consumer (streams that let go of them early say so: lib/reclaim.ts).
  const chunkSize = 256 * 1024;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      file.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        signal?.throwIfAborted();
        if (remaining <= 0) {
          close();
          controller.close();
          return;
        }
        const buffer = new Uint8Array(Math.min(chunkSize, remaining));
        const n = await file.read(buffer);
        if (n === null || n === 0) {
          close();
          controller.close();
          return;
        }
        remaining -= n;
        controller.enqueue(n === buffer.byteLength ? buffer : buffer.subarray(0, n));
      } catch (error) {
        close();
        controller.error(error);
      }
    },
    cancel() {
      close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Creates `dir` and opens a new file in it. A concurrent delete of the last
 * file in that folder removes the folder between the two steps, so the
 * folder is made again and the open retried.
 */
async function openInNewDir(dir: string, path: string): Promise<Deno.FsFile> {
  for (let attempt = 1;; attempt++) {
    await Deno.mkdir(dir, { recursive: true });
    try {
      return await Deno.open(path, { write: true, createNew: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || attempt >= 5) throw error;
    }
  }
}

/**
 * Whether two file ETags (`inode-mtime-size` in hex, the mtime in
 * microseconds, as object_store and so stacpkg write them) name the same
 * file state. Deno reads file times to the millisecond, stacpkg to the
 * microsecond: the mtimes are compared to the millisecond, so a lock
 * stacpkg derived from local files validates in ferry. Other ETags are
 * compared as they are.
 *
 * @example
 * ```ts
 * import { sameFileEtag } from "./file.ts";
 * import { equal } from "node:assert/strict";
 * equal(sameFileEtag("23e433-66176473892e1-400", "23e433-6617647389288-400"), true);
 * equal(sameFileEtag("23e433-66176473892e1-400", "23e433-6617647389288-401"), false);
 * ```
 *
 * @param a One ETag.
 * @param b The other.
 * @returns True when they match.
 */
export function sameFileEtag(a: string, b: string): boolean {
  const x = FILE_ETAG.exec(a);
  const y = FILE_ETAG.exec(b);
  if (!x || !y) return a === b;
  return x[1] === y[1] && x[3] === y[3] &&
    BigInt(`0x${x[2]}`) / 1000n === BigInt(`0x${y[2]}`) / 1000n;
}

const FILE_ETAG = /^([0-9a-f]+)-([0-9a-f]+)-([0-9a-f]+)$/;
