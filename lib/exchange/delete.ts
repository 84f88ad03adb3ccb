/**
 * Deleting: keys in batches (S3 DeleteObjects, Swift bulk delete), every
 * key under a prefix matching a regular expression, and everything a
 * manifest names: its objects, its shard archives and its manifests (the
 * root, every part it references, pending references), each once, with a
 * report of counts and errors.
 *
 * @module
 */
import { isBulkDeleter, type ObjectStore } from "../stores/mod.ts";
import { pooledMap } from "../pipeline/mod.ts";
import { isFileEntry, isManifestRef, isShardEntry } from "./entries.ts";
import { pendingRefs, readManifestFile } from "./manifest_reader.ts";
import { pendingRefsPrefix, rootLockPrefix } from "./keys.ts";
import { type ExchangeOptions, resolveExchangeOptions } from "./options.ts";

/** Keys per delete request. */
const BATCH = 1000;

/** The failures of a delete, by key. */
export type DeleteErrors = Record<string, string>;

/**
 * Deletes keys in batches of 1000 (one request each where the store deletes
 * in bulk, `maxWorkers` single deletes at a time otherwise). Missing keys
 * are not errors.
 *
 * @example
 * ```ts
 * import { deleteKeys } from "./delete.ts";
 * import { MemoryStore, putBytes, listAll } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new MemoryStore();
 * for (const k of ["a", "b"]) await putBytes(store, k, new Uint8Array(1));
 * deepEqual(await deleteKeys(store, ["a", "b", "missing"]), { deleted: 3, errors: {} });
 * deepEqual(await listAll(store), []);
 * ```
 *
 * @param store The store.
 * @param keys The keys.
 * @param options Workers, signal.
 * @returns How many were deleted and the failures by key.
 */
export async function deleteKeys(
  store: ObjectStore,
  keys: Iterable<string> | AsyncIterable<string>,
  options: ExchangeOptions = {},
): Promise<{ deleted: number; errors: DeleteErrors }> {
  const io = resolveExchangeOptions(options);
  const errors: DeleteErrors = {};
  let deleted = 0;
  const flush = async (batch: string[]) => {
    if (batch.length === 0) return;
    if (isBulkDeleter(store)) {
      const failed = await store.deleteMany(batch, { signal: io.signal });
      for (const f of failed) errors[f.key] = f.error.message;
      deleted += batch.length - failed.length;
      return;
    }
    for await (
      const failure of pooledMap(io.maxWorkers, batch, async (key) => {
        try {
          await store.delete(key, { signal: io.signal });
          return undefined;
        } catch (error) {
          return { key, message: error instanceof Error ? error.message : String(error) };
        }
      })
    ) {
      if (failure) errors[failure.key] = failure.message;
      else deleted++;
    }
  };
  let batch: string[] = [];
  for await (const key of keys) {
    batch.push(key);
    if (batch.length >= BATCH) {
      await flush(batch);
      batch = [];
    }
  }
  await flush(batch);
  return { deleted, errors };
}

/**
 * Deletes every object under `prefix` whose key matches `regex` (searched
 * anywhere in the key, as s3exchange's `delete_prefix`).
 *
 * @param store The store.
 * @param prefix The key prefix.
 * @param options The regular expression, workers, signal.
 * @returns How many were deleted and the failures.
 */
export async function deletePrefix(
  store: ObjectStore,
  prefix: string,
  options: ExchangeOptions & { regex?: RegExp | string | undefined } = {},
): Promise<{ deleted: number; errors: DeleteErrors }> {
  const pattern = options.regex === undefined
    ? undefined
    : options.regex instanceof RegExp
    ? options.regex
    : new RegExp(options.regex);
  const keys = async function* () {
    for await (const entry of store.list(prefix, { signal: options.signal })) {
      if (entry.kind === "object" && (!pattern || pattern.test(entry.key))) yield entry.key;
    }
  };
  return await deleteKeys(store, keys(), options);
}

/** What {@linkcode deleteByManifest} did (s3exchange's `DeleteReport`). */
export interface DeleteReport {
  /** Loose objects deleted. */
  deleted_object_count: number;
  /** Shard archives deleted. */
  deleted_archive_count: number;
  /** Manifests deleted (root, parts, pending references). */
  deleted_manifest_count: number;
  /** Failures by key. */
  errors: DeleteErrors;
}

/**
 * Deletes everything a manifest names: the objects of its file entries, the
 * archives of its shard entries, and (unless `keepManifests`) the manifests
 * themselves: every part it references (depth-first, each once) and its
 * pending references, then the root last. Keys are deduplicated and deleted
 * in batches. Manifests are kept when anything else failed, so the delete
 * can be run again.
 *
 * @example
 * ```ts
 * import { deleteByManifest } from "./delete.ts";
 * import { writeManifest } from "./manifest_writer.ts";
 * import { MemoryStore, putBytes, listAll } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new MemoryStore();
 * await putBytes(store, "d/a.bin", new Uint8Array(3));
 * await writeManifest(store, "d/manifest.jsonl", [{ kind: "file", key: "d/a.bin" }, { kind: "file", key: "d/a.bin" }], { mode: "append_parts" });
 * const report = await deleteByManifest(store, "d/manifest.jsonl");
 * deepEqual(report, { deleted_object_count: 1, deleted_archive_count: 0, deleted_manifest_count: 2, errors: {} });
 * deepEqual(await listAll(store), []);
 * ```
 *
 * @param store The store.
 * @param manifestKey The root manifest's key.
 * @param options `keepManifests`, workers, signal.
 * @returns Counts and errors.
 */
export async function deleteByManifest(
  store: ObjectStore,
  manifestKey: string,
  options: ExchangeOptions & { keepManifests?: boolean | undefined } = {},
): Promise<DeleteReport> {
  const objects = new Set<string>();
  const archives = new Set<string>();
  const manifests: string[] = [];
  const seenManifests = new Set<string>();
  const errors: DeleteErrors = {};
  const walk = async (key: string, referencedBy?: string) => {
    if (seenManifests.has(key)) return;
    seenManifests.add(key);
    try {
      for await (const entry of readManifestFile(store, key, { ...options, referencedBy })) {
        if (isFileEntry(entry)) objects.add(entry.key);
        else if (isShardEntry(entry)) archives.add(entry.archive_key);
        else if (isManifestRef(entry)) await walk(entry.key, key);
      }
      manifests.push(key);
    } catch (error) {
      errors[key] = error instanceof Error ? error.message : String(error);
    }
  };
  await walk(manifestKey);
  try {
    for (const pending of await pendingRefs(store, manifestKey, options)) {
      for (const ref of pending.refs) await walk(ref.key, pending.key);
      manifests.push(pending.key);
    }
  } catch (error) {
    errors[pendingRefsPrefix(manifestKey)] = error instanceof Error ? error.message : String(error);
  }
  for (const archive of archives) objects.delete(archive);
  const removeObjects = await deleteKeys(store, objects, options);
  const removeArchives = await deleteKeys(store, archives, options);
  Object.assign(errors, removeObjects.errors, removeArchives.errors);
  let deletedManifests = 0;
  if (!options.keepManifests && Object.keys(errors).length === 0) {
    // Parts first, the root last: a failure leaves the root readable.
    const parts = manifests.filter((key) => key !== manifestKey);
    const root = manifests.includes(manifestKey) ? [manifestKey] : [];
    const removed = await deleteKeys(store, [...parts, ...root], options);
    const locks = await deletePrefix(store, rootLockPrefix(manifestKey), options);
    Object.assign(errors, removed.errors, locks.errors);
    deletedManifests = removed.deleted;
  }
  return {
    deleted_object_count: removeObjects.deleted,
    deleted_archive_count: removeArchives.deleted,
    deleted_manifest_count: deletedManifests,
    errors,
  };
}
