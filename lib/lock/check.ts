/**
 * Checking a lock against the live objects: size, ETag and last-modified
 * (each compared only when both sides have it), and with `deep` the bytes'
 * checksum. The seed of `ferry asset-lock validate`.
 *
 * @module
 */
import { openLocation, type OpenOptions } from "../stores/registry.ts";
import { mapOrdered } from "./_pool.ts";
import { sha256Multihash } from "./checksum.ts";
import { lockRowLocation } from "./derive.ts";
import type { LockRow } from "./schema.ts";

/** The verdict on one lock row; field order is the validate output's. */
export interface LockCheck {
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
  /** What differs, e.g. `size mismatch: expected 10, actual 11`. */
  errors: string[];
}

/** Options of {@linkcode checkLockRows}. */
export interface CheckLockOptions {
  /** Folder that relative file keys are relative to (a package's root). @default the cwd */
  baseDir?: string | undefined;
  /** Also re-read the bytes and compare the checksum (rows that have one). @default false */
  deep?: boolean | undefined;
  /** Checks in flight. @default 8 */
  maxWorkers?: number | undefined;
  /** Environment and retries for opening stores. */
  open?: OpenOptions | undefined;
}

/**
 * Checks each row against its object; a failed request makes the row invalid.
 *
 * @example A changed object
 * ```ts
 * import { checkLockRows } from "./check.ts";
 * import { openLocation, putBytes } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const { store } = openLocation("memory://check-doc/x");
 * await putBytes(store, "a.bin", new Uint8Array(11));
 * const [result] = await checkLockRows([{
 *   item_id: "a", asset_key: "data", store_type: "memory", store_container: "check-doc",
 *   store_endpoint_url: null, key: "a.bin", size_bytes: 10, etag: null,
 *   last_modified: null, checksum: null,
 * }]);
 * deepEqual(result!.errors, ["size mismatch: expected 10, actual 11"]);
 * ```
 *
 * @param rows The lock rows.
 * @param options Base folder, depth, concurrency.
 * @returns One verdict per row, in row order.
 */
export function checkLockRows(
  rows: readonly LockRow[],
  options: CheckLockOptions = {},
): Promise<LockCheck[]> {
  return mapOrdered(rows, options.maxWorkers ?? 8, async (row) => {
    const errors: string[] = [];
    try {
      const location = lockRowLocation(row);
      if (
        location.store_type === "file" && !location.key.startsWith("/") && options.baseDir
      ) {
        location.key = `${options.baseDir.replace(/\/$/, "")}/${location.key}`;
      }
      const { store, key } = openLocation(location, options.open);
      const meta = await store.head(key);
      const compare = (name: string, expected: unknown, actual: unknown) => {
        if (
          expected !== null && expected !== undefined && actual !== null && actual !== undefined
        ) {
          if (expected !== actual) {
            errors.push(`${name} mismatch: expected ${expected}, actual ${actual}`);
          }
        }
      };
      compare("size", row.size_bytes, meta.size);
      compare("etag", row.etag, meta.etag);
      if (row.last_modified && meta.lastModified) {
        const expected = Date.parse(row.last_modified);
        if (Number.isNaN(expected) || expected !== meta.lastModified.getTime()) {
          errors.push(
            `last_modified mismatch: expected ${row.last_modified}, actual ${meta.lastModified.toISOString()}`,
          );
        }
      }
      if (options.deep && row.checksum) {
        const { checksum } = await sha256Multihash(await store.get(key));
        compare("checksum", row.checksum, checksum);
      }
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
    return {
      item_id: row.item_id,
      asset_key: row.asset_key,
      store_type: row.store_type,
      store_container: row.store_container,
      key: row.key,
      valid: errors.length === 0,
      errors,
    };
  });
}
