/**
 * Validating an asset lock against the live objects (`ferry asset-lock
 * validate`): per row, the object's size, ETag and last-modified against the
 * locked ones (each compared only when both sides have it), and with `deep`
 * the SHA-256 of the bytes, streamed (a read the network cuts off is read
 * again from the start, never hashed short).
 *
 * ## Listings instead of HEADs
 *
 * Rows are grouped by store and by the folder of their key (everything up to
 * the last `/`). A group with more than `listingThreshold` rows is answered
 * from one listing of that folder (with delimiter `/`, so sub-folders are not
 * walked) instead of one HEAD per row. A listing entry only ever confirms a
 * row: when it is missing from the listing, or any fact differs from the lock
 * (a Swift SLO's listing hash, a listing time with sub-second precision where
 * HEAD rounds, a listing that lags a write), the row is asked again with a
 * HEAD, and only the HEAD's answer is reported. A store that cannot list
 * (plain HTTP) falls back to HEADs.
 *
 * @module
 */
import { NotFoundError } from "../stores/errors.ts";
import { openLocation, type OpenOptions } from "../stores/registry.ts";
import { normalizeEtag, type ObjectMeta, type ObjectStore } from "../stores/store.ts";
import { sameFileEtag } from "../stores/file.ts";
import { isRelativeHref, type Location, relativeHrefResolver } from "../stores/location.ts";
import { type LockRow, lockRowLocation, lockTime, normalizeEndpoint } from "./schema.ts";
import { digestObject } from "../pipeline/digest.ts";
import { multihashOf } from "../pipeline/hash_stream.ts";
import { pooledMap } from "../pipeline/pool.ts";

/** The verdict on one lock row (the CLI prints its keys sorted, as stacpkg does). */
export interface RowValidation {
  /** The item. */
  item_id: string;
  /** The asset. */
  asset_key: string;
  /** The row's store type. */
  store_type: string;
  /** The row's container. */
  store_container: string | null;
  /** The row's key. */
  key: string;
  /** True when nothing differs and the object could be read. */
  valid: boolean;
  /** What differs, e.g. `size mismatch: expected 10, actual 11`, or `not found`. */
  errors: string[];
  /** The row's endpoint, when it has one (trimmed, no trailing `/`, `https://` when no scheme), as stacpkg adds it. */
  store_endpoint_url?: string;
}

/** Options of {@linkcode validateLock}. */
export interface ValidateOptions {
  /** Also re-read the bytes and compare the SHA-256 checksum (rows that have one). @default false */
  deep?: boolean | undefined;
  /**
   * A failed request (other than "not found") makes the row invalid instead
   * of aborting the whole validation.
   * @default false
   */
  keepGoing?: boolean | undefined;
  /** Only rows of these items. @default all */
  itemIds?: readonly string[] | undefined;
  /** Only rows of these asset keys. @default all */
  assetKeys?: readonly string[] | undefined;
  /** Requests in flight. @default 8 */
  maxWorkers?: number | undefined;
  /** Groups with more rows than this under one folder are answered by a listing. @default 8 */
  listingThreshold?: number | undefined;
  /** Environment and retries for opening stores. */
  open?: OpenOptions | undefined;
  /**
   * Folder that relative file keys are relative to (a package's root, whose
   * lock records packaged assets relative to it).
   * @default the working directory
   */
  baseDir?: string | undefined;
  /** Resolves a row to its store and key. @default openLocation */
  resolve?: ((location: Location) => { store: ObjectStore; key: string }) | undefined;
  /** Cancels the validation. */
  signal?: AbortSignal | undefined;
}

/** Counters of one validation (what the listings saved). */
export interface ValidateStats {
  /** Rows checked. */
  rows: number;
  /** HEAD requests made. */
  heads: number;
  /** Listings made. */
  listings: number;
  /** Rows answered by a listing entry alone. */
  fromListing: number;
}

/** The verdicts, sorted, and the counters. */
export interface ValidateReport {
  /** One verdict per selected row, sorted by `item_id`, `asset_key`, then location. */
  results: RowValidation[];
  /** Counters. */
  stats: ValidateStats;
}

interface Resolved {
  row: LockRow;
  store: ObjectStore;
  key: string;
}

/**
 * Validates lock rows against their objects.
 *
 * @example A changed object and a missing one
 * ```ts
 * import { validateLock } from "./validate.ts";
 * import { openLocation, putBytes } from "../stores/mod.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const { store } = openLocation("memory://validate-doc/x");
 * await putBytes(store, "a.bin", new Uint8Array(11));
 * const row = {
 *   item_id: "a", asset_key: "data", store_type: "memory" as const, store_container: "validate-doc",
 *   store_endpoint_url: null, key: "a.bin", size_bytes: 10, etag: null,
 *   last_modified: null, checksum: null,
 * };
 * const { results } = await validateLock([[row, { ...row, asset_key: "gone", key: "b.bin" }]]);
 * deepEqual(results[0]!.errors, ["size mismatch: expected 10, actual 11"]);
 * deepEqual(results[1]!.errors, ["not found"]);
 * equal(results[1]!.valid, false);
 * ```
 *
 * @param batches Batches of lock rows.
 * @param options Depth, selection, concurrency, error handling.
 * @returns The sorted verdicts and counters.
 * @throws {Error} The first failed request (other than not found), unless `keepGoing`.
 */
export async function validateLock(
  batches: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
  options: ValidateOptions = {},
): Promise<ValidateReport> {
  const maxWorkers = options.maxWorkers ?? 8;
  if (!Number.isSafeInteger(maxWorkers) || maxWorkers < 1) {
    throw new RangeError(`Invalid maxWorkers ${maxWorkers}: expected a positive integer`);
  }
  const threshold = options.listingThreshold ?? 8;
  const itemIds = options.itemIds?.length ? new Set(options.itemIds) : undefined;
  const assetKeys = options.assetKeys?.length ? new Set(options.assetKeys) : undefined;
  const inBaseDir = options.baseDir === undefined
    ? undefined
    : relativeHrefResolver(`${options.baseDir.replace(/\/$/, "")}/`);
  const resolve = options.resolve ?? ((location: Location) => {
    if (inBaseDir && location.store_type === "file" && isRelativeHref(location.key)) {
      location = { ...location, key: inBaseDir(location.key) };
    }
    return openLocation(location, options.open);
  });
  const stats: ValidateStats = { rows: 0, heads: 0, listings: 0, fromListing: 0 };

  // Group the selected rows by store and folder.
  const groups = new Map<ObjectStore, Map<string, Resolved[]>>();
  const unresolved: { row: LockRow; error: unknown }[] = [];
  for await (const rows of batches) {
    for (const row of rows) {
      if (itemIds && !itemIds.has(row.item_id)) continue;
      if (assetKeys && !assetKeys.has(row.asset_key)) continue;
      stats.rows++;
      let opened;
      try {
        opened = resolve(lockRowLocation(row));
      } catch (error) {
        if (!options.keepGoing) throw rowError(row, error);
        unresolved.push({ row, error });
        continue;
      }
      const folder = opened.key.slice(0, opened.key.lastIndexOf("/") + 1);
      let byFolder = groups.get(opened.store);
      if (!byFolder) groups.set(opened.store, byFolder = new Map());
      let group = byFolder.get(folder);
      if (!group) byFolder.set(folder, group = []);
      group.push({ row, store: opened.store, key: opened.key });
    }
  }

  // One unit of work per listed group or per HEAD row.
  type Unit = { list: string; rows: Resolved[] } | { row: Resolved };
  const units: Unit[] = [];
  for (const byFolder of groups.values()) {
    for (const [folder, rows] of byFolder) {
      if (rows.length > threshold) units.push({ list: folder, rows });
      else for (const row of rows) units.push({ row });
    }
  }

  const check = async (r: Resolved, listed: ObjectMeta | undefined): Promise<RowValidation> => {
    try {
      let errors = listed ? compareFacts(r.row, listed) : undefined;
      if (errors === undefined || errors.length > 0) {
        stats.heads++;
        let meta: ObjectMeta | undefined;
        try {
          meta = await r.store.head(r.key, { signal: options.signal });
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
        if (!meta) return verdict(r.row, ["not found"]);
        errors = compareFacts(r.row, meta);
      } else {
        stats.fromListing++;
      }
      if (options.deep && r.row.checksum) {
        const digest = await digestObject(r, {
          retry: options.open?.retry,
          signal: options.signal,
        });
        const actual = multihashOf(digest.sha256);
        if (r.row.checksum.toLowerCase() !== actual) {
          errors.push(`checksum mismatch: expected ${r.row.checksum}, actual ${actual}`);
        }
      }
      return verdict(r.row, errors);
    } catch (error) {
      if (error instanceof NotFoundError) return verdict(r.row, ["not found"]);
      if (!options.keepGoing) throw rowError(r.row, error);
      return verdict(r.row, [messageOf(error)]);
    }
  };

  const results: RowValidation[] = unresolved.map(({ row, error }) =>
    verdict(row, [messageOf(error)])
  );
  const work = pooledMap(maxWorkers, units, async (unit): Promise<RowValidation[]> => {
    if ("row" in unit) return [await check(unit.row, undefined)];
    const wanted = new Map(unit.rows.map((r) => [r.key, r]));
    const found = new Map<string, ObjectMeta>();
    try {
      stats.listings++;
      for await (const entry of unit.rows[0]!.store.list(unit.list, { delimiter: "/" })) {
        if (entry.kind === "object" && wanted.has(entry.key)) found.set(entry.key, entry);
      }
    } catch {
      // A store that cannot list (or a listing that failed) falls back to HEADs.
      found.clear();
    }
    const out: RowValidation[] = [];
    for await (
      const v of pooledMap(
        Math.max(1, Math.ceil(maxWorkers / 2)),
        unit.rows,
        (r) => check(r, found.get(r.key)),
        { signal: options.signal },
      )
    ) out.push(v);
    return out;
  }, { signal: options.signal });
  for await (const verdicts of work) results.push(...verdicts);
  results.sort(compareVerdicts);
  return { results, stats };
}

/**
 * The differences between a row's locked facts and an object's. Each fact is
 * compared only when both sides have it. Times are equal within a second
 * (HTTP dates have whole seconds, listings fractions).
 *
 * @example
 * ```ts
 * import { compareFacts } from "./validate.ts";
 * import { deepEqual } from "node:assert/strict";
 * const row = {
 *   item_id: "a", asset_key: "b", store_type: "memory" as const, store_container: null,
 *   store_endpoint_url: null, key: "k", size_bytes: 10, etag: "x",
 *   last_modified: "2024-01-01T00:00:00.000Z", checksum: null,
 * };
 * deepEqual(compareFacts(row, { key: "k", size: 11, etag: '"x"' }), [
 *   "size mismatch: expected 10, actual 11",
 * ]);
 * ```
 *
 * @param row The lock row.
 * @param meta The object's facts.
 * @returns Error texts, empty when nothing differs.
 */
export function compareFacts(row: LockRow, meta: ObjectMeta): string[] {
  const errors: string[] = [];
  if (row.size_bytes !== null && row.size_bytes !== meta.size) {
    errors.push(`size mismatch: expected ${row.size_bytes}, actual ${meta.size}`);
  }
  if (row.etag && meta.etag && !sameEtag(row, meta.etag)) {
    errors.push(`etag mismatch: expected ${row.etag}, actual ${meta.etag}`);
  }
  if (row.last_modified && meta.lastModified) {
    const expected = Date.parse(row.last_modified);
    const actual = meta.lastModified.getTime();
    // HTTP dates have whole seconds (Swift rounds up, S3 down); listings and
    // locks written from them carry fractions (Swift's microseconds cut to
    // milliseconds): equal when the actual time is less than a second before
    // or at most one second after the locked one.
    const diff = actual - expected;
    if (Number.isNaN(expected) || diff <= -1000 || diff > 1000) {
      errors.push(
        `last_modified mismatch: expected ${row.last_modified}, actual ${
          lockTime(meta.lastModified)
        }`,
      );
    }
  }
  return errors;
}

/** A file's ETag holds its mtime, which stacpkg reads to the microsecond and Deno to the millisecond. */
function sameEtag(row: LockRow, actual: string): boolean {
  const locked = normalizeEtag(row.etag)!;
  const current = normalizeEtag(actual)!;
  return row.store_type === "file" ? sameFileEtag(locked, current) : locked === current;
}

function verdict(row: LockRow, errors: string[]): RowValidation {
  const result: RowValidation = {
    item_id: row.item_id,
    asset_key: row.asset_key,
    store_type: row.store_type,
    store_container: row.store_container,
    key: row.key,
    valid: errors.length === 0,
    errors,
  };
  const endpoint = normalizeEndpoint(row.store_endpoint_url);
  if (endpoint) result.store_endpoint_url = endpoint;
  return result;
}

function compareVerdicts(a: RowValidation, b: RowValidation): number {
  for (const k of ["item_id", "asset_key", "store_type", "store_container", "key"] as const) {
    const x = a[k] ?? "";
    const y = b[k] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

function rowError(row: LockRow, error: unknown): Error {
  return new Error(
    `Cannot validate item "${row.item_id}" asset "${row.asset_key}": ${messageOf(error)}`,
    { cause: error },
  );
}
