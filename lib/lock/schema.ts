/**
 * The asset lock's row shape, column order and schema metadata, and the one
 * place that turns a foreign record (a Parquet or Arrow row, possibly written
 * by stacpkg) into a checked {@linkcode LockRow}.
 *
 * @module
 */
import {
  type Location,
  normalizeEndpoint,
  normalizeStoreType,
  type StoreType,
} from "../stores/location.ts";

/** Re-exported for the lock's callers: an endpoint as stacpkg records it. */
export { normalizeEndpoint };

/** One row of the asset lock: where one asset of one item lives, and what is known of it. */
export interface LockRow {
  /** The item's id. */
  item_id: string;
  /** The asset's key in the item's `assets`. */
  asset_key: string;
  /** The driver. */
  store_type: StoreType;
  /** Bucket, container, `scheme://host` (http), or null for files. */
  store_container: string | null;
  /** S3 endpoint or Swift storage URL; null means "from the environment". */
  store_endpoint_url: string | null;
  /** The object key (a path for files, relative to the package for packaged assets). */
  key: string;
  /** Size in bytes, when known. */
  size_bytes: number | null;
  /** The ETag the store reported, unquoted, when known. */
  etag: string | null;
  /** Last-modified time as an ISO-8601 string, when known. */
  last_modified: string | null;
  /** Multihash hex of the bytes (`1220` + SHA-256 hex), when computed. */
  checksum: string | null;
}

/** Column order: stacpkg's, with `checksum` appended. */
export const LOCK_COLUMNS = [
  "item_id",
  "asset_key",
  "store_type",
  "store_container",
  "store_endpoint_url",
  "key",
  "size_bytes",
  "etag",
  "last_modified",
  "checksum",
] as const satisfies readonly (keyof LockRow)[];

/** Columns a lock must have; the others are null when absent (stacpkg locks have no `checksum`). */
export const REQUIRED_LOCK_COLUMNS = ["item_id", "asset_key", "store_type", "key"] as const;

/** Schema metadata key naming the kind of table (stacpkg's key, so both tools recognise it). */
export const SCHEMA_KIND_KEY = "stacpkg:schema-kind";
/** Schema metadata key naming the schema version. */
export const SCHEMA_VERSION_KEY = "stacpkg:schema-version";
/** The kind written for asset locks. */
export const LOCK_SCHEMA_KIND = "asset-lock";
/** The version written for asset locks. */
export const LOCK_SCHEMA_VERSION = "v1";

/** The schema metadata every lock carries. */
export const LOCK_SCHEMA_METADATA: Readonly<Record<string, string>> = {
  [SCHEMA_KIND_KEY]: LOCK_SCHEMA_KIND,
  [SCHEMA_VERSION_KEY]: LOCK_SCHEMA_VERSION,
};

/** The multihash prefix of a SHA-256 digest (code 0x12, length 0x20). */
export const SHA256_MULTIHASH_PREFIX = "1220";

/**
 * Columns of `names` that a lock needs but that are missing.
 *
 * @example A stacpkg lock has every required column
 * ```ts
 * import { missingLockColumns } from "./schema.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(missingLockColumns(["item_id", "asset_key", "store_type", "key", "extra"]), []);
 * deepEqual(missingLockColumns(["item_id"]), ["asset_key", "store_type", "key"]);
 * ```
 *
 * @param names The column names present.
 * @returns The missing required ones, in lock order.
 */
export function missingLockColumns(names: Iterable<string>): string[] {
  const present = new Set(names);
  return REQUIRED_LOCK_COLUMNS.filter((c) => !present.has(c));
}

/**
 * Checks and normalises one foreign record into a {@linkcode LockRow}: unknown
 * fields are dropped, missing optional ones become null, `size_bytes` becomes a
 * number and `last_modified` an ISO string.
 *
 * @example A stacpkg row (no checksum, an extra column)
 * ```ts
 * import { toLockRow } from "./schema.ts";
 * import { deepEqual } from "node:assert/strict";
 * const row = toLockRow({
 *   item_id: "a", asset_key: "data", store_type: "s3a", store_container: "b", key: "k.tif",
 *   size_bytes: 10n, extra: 1,
 * }, "row 1");
 * deepEqual(row, {
 *   item_id: "a", asset_key: "data", store_type: "s3", store_container: "b",
 *   store_endpoint_url: null, key: "k.tif", size_bytes: 10, etag: null,
 *   last_modified: null, checksum: null,
 * });
 * ```
 *
 * @param record The record.
 * @param where Where it came from, for errors (e.g. `row 3`).
 * @returns The lock row.
 * @throws {SyntaxError} When a required value is empty or a value has the wrong type.
 */
export function toLockRow(record: Record<string, unknown>, where: string): LockRow {
  const text = (name: string, required: boolean): string | null => {
    const value = record[name];
    if (value === null || value === undefined) {
      if (required) throw new SyntaxError(`${where}: ${name} is empty`);
      return null;
    }
    if (typeof value !== "string") {
      throw new SyntaxError(`${where}: ${name} is not a string: ${JSON.stringify(String(value))}`);
    }
    if (required && name !== "key" && value === "") {
      throw new SyntaxError(`${where}: ${name} is empty`);
    }
    return value;
  };
  let storeType: StoreType;
  try {
    storeType = normalizeStoreType(text("store_type", true)!);
  } catch (error) {
    if (error instanceof SyntaxError) throw error;
    throw new SyntaxError(`${where}: ${(error as Error).message}`);
  }
  return {
    item_id: text("item_id", true)!,
    asset_key: text("asset_key", true)!,
    store_type: storeType,
    store_container: text("store_container", false),
    store_endpoint_url: normalizeEndpoint(text("store_endpoint_url", false)),
    key: text("key", true)!,
    size_bytes: toSize(record.size_bytes, where),
    etag: text("etag", false),
    last_modified: toIsoTime(record.last_modified, where),
    checksum: text("checksum", false),
  };
}

/**
 * A time as stacpkg writes a lock's `last_modified`: Python's
 * `datetime.isoformat()` of a UTC time (`+00:00`, a fraction only when
 * there is one), so that stacpkg, which compares these strings as they are,
 * validates ferry's locks.
 *
 * @example
 * ```ts
 * import { lockTime } from "./schema.ts";
 * import { equal } from "node:assert/strict";
 * equal(lockTime(new Date("2024-05-01T10:00:00Z")), "2024-05-01T10:00:00+00:00");
 * equal(lockTime(new Date("2024-05-01T10:00:00.120Z")), "2024-05-01T10:00:00.120000+00:00");
 * ```
 *
 * @param date The time.
 * @returns The text.
 */
export function lockTime(date: Date): string {
  const ms = date.getUTCMilliseconds();
  const fraction = ms === 0 ? "" : `.${String(ms).padStart(3, "0")}000`;
  return `${date.toISOString().slice(0, -5)}${fraction}+00:00`;
}

function toSize(value: unknown, where: string): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new SyntaxError(`${where}: size_bytes is not a non-negative integer: ${String(value)}`);
  }
  return n;
}

function toIsoTime(value: unknown, where: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (value instanceof Date) return lockTime(value);
  if (typeof value === "number" || typeof value === "bigint") {
    return lockTime(new Date(Number(value)));
  }
  throw new SyntaxError(`${where}: last_modified is not a time: ${String(value)}`);
}

/**
 * The location of a lock row.
 *
 * @param row The row.
 * @returns Its location.
 */
export function lockRowLocation(row: LockRow): Location {
  return {
    store_type: row.store_type,
    store_container: row.store_container,
    store_endpoint_url: row.store_endpoint_url,
    key: row.key,
  };
}
