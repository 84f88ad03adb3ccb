/**
 * `items enrich`: File Info fields (`file:size`, `file:checksum`) and an
 * optional alternate href on each asset, from the asset lock row matched by
 * (`item_id`, `asset_key`); plus the lock index, hrefs of lock rows, the
 * extension URIs, and the batch helper the alternate commands share.
 *
 * @module
 */
import { type LockRow, lockRowLocation } from "./schema.ts";
import { formatHref, type Location, publicUrl } from "../stores/location.ts";
import { isJsonObject as isRecord, type StacAsset, type StacItem } from "../stac/item.ts";

/** The File Info extension this module writes (`file:size`, `file:checksum`). */
export const FILE_EXTENSION = "https://stac-extensions.github.io/file/v2.1.0/schema.json";
/** The Alternate Assets extension this module writes (`alternate`, `alternate:name`). */
export const ALTERNATE_ASSETS_EXTENSION =
  "https://stac-extensions.github.io/alternate-assets/v1.2.0/schema.json";

/** Lock rows by item id, then asset key. */
export type LockIndex = ReadonlyMap<string, ReadonlyMap<string, LockRow>>;

/**
 * Indexes lock rows by (`item_id`, `asset_key`). A later row for the same
 * pair replaces an earlier one (as stacpkg).
 *
 * @example
 * ```ts
 * import { indexLockRows } from "./enrich.ts";
 * import { equal } from "node:assert/strict";
 * const row = { item_id: "a", asset_key: "data", store_type: "s3" as const, store_container: "b",
 *   store_endpoint_url: null, key: "k", size_bytes: 1, etag: null, last_modified: null, checksum: null };
 * equal(indexLockRows([row]).get("a")?.get("data")?.key, "k");
 * ```
 *
 * @param rows The lock rows.
 * @returns The index.
 */
export function indexLockRows(rows: Iterable<LockRow>): LockIndex {
  const index = new Map<string, Map<string, LockRow>>();
  for (const row of rows) {
    let assets = index.get(row.item_id);
    if (!assets) index.set(row.item_id, assets = new Map());
    assets.set(row.asset_key, row);
  }
  return index;
}

/** Options of {@linkcode lockRowHref}. */
export interface LockRowHrefOptions {
  /**
   * The Swift storage URL for Swift rows without `store_endpoint_url`.
   * @default undefined (such rows are an error)
   */
  swiftStorageUrl?: string | undefined;
}

/**
 * The href ferry writes into STAC for a lock row: for Swift the full https
 * object URL (`store_endpoint_url/container/key`), for S3 `s3://bucket/key`,
 * for files the path or `file://` URL, for http(s) the URL.
 *
 * @example A Swift row becomes an https URL
 * ```ts
 * import { lockRowHref } from "./enrich.ts";
 * import { equal } from "node:assert/strict";
 * const row = { item_id: "a", asset_key: "data", store_type: "swift" as const, store_container: "c",
 *   store_endpoint_url: "https://swift.example/v1/AUTH_x", key: "a b.tif", size_bytes: null,
 *   etag: null, last_modified: null, checksum: null };
 * equal(lockRowHref(row), "https://swift.example/v1/AUTH_x/c/a%20b.tif");
 * ```
 *
 * @param row The lock row.
 * @param options The Swift storage URL for rows that do not record one.
 * @returns The href.
 * @throws {TypeError} For a Swift row without an endpoint when no storage URL is given.
 */
export function lockRowHref(row: LockRow, options: LockRowHrefOptions = {}): string {
  const location: Location = lockRowLocation(row);
  if (location.store_type === "swift" && !location.store_endpoint_url) {
    if (!options.swiftStorageUrl) {
      throw new TypeError(
        `Cannot write an https URL for lock row "${row.item_id}"/"${row.asset_key}" (${
          formatHref(location)
        }): it has no store_endpoint_url and no Swift storage URL is known`,
      );
    }
    location.store_endpoint_url = options.swiftStorageUrl;
  }
  return publicUrl(location);
}

/**
 * Whether {@linkcode lockRowHref} needs a Swift storage URL for `row`.
 *
 * @param row The lock row.
 * @returns True for a Swift row without `store_endpoint_url`.
 */
export function needsSwiftStorageUrl(row: LockRow): boolean {
  return row.store_type === "swift" && !row.store_endpoint_url;
}

/**
 * The reference object of an alternate for a lock row: `href`, and for S3
 * rows with an endpoint `store_endpoint_url` (as stacpkg; a Swift href is
 * already the full URL).
 *
 * @param row The lock row.
 * @param options The Swift storage URL.
 * @returns The alternate object.
 */
export function alternateOfLockRow(
  row: LockRow,
  options: LockRowHrefOptions = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = { href: lockRowHref(row, options) };
  if (row.store_type === "s3" && row.store_endpoint_url) {
    out.store_endpoint_url = row.store_endpoint_url;
  }
  return out;
}

/**
 * `extensions` with `uri` appended when missing.
 *
 * @example
 * ```ts
 * import { withExtension } from "./enrich.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(withExtension(["a"], "b"), ["a", "b"]);
 * deepEqual(withExtension(["a", "b"], "b"), ["a", "b"]);
 * ```
 *
 * @param extensions The current `stac_extensions` (or nothing).
 * @param uri The extension schema URI.
 * @returns A new array.
 */
export function withExtension(extensions: unknown, uri: string): string[] {
  const values = Array.isArray(extensions)
    ? extensions.filter((v): v is string => typeof v === "string")
    : [];
  return values.includes(uri) ? values : [...values, uri];
}

/**
 * The item's assets with each one that has a row in the lock index passed
 * through `change` (the others as they are), or undefined when none has.
 *
 * @param item The item.
 * @param index The lock index.
 * @param change The new asset of an asset and its lock row.
 * @returns The assets and how many changed.
 */
export function changeLockedAssets(
  item: StacItem,
  index: LockIndex,
  change: (asset: StacAsset, row: LockRow) => StacAsset,
): { assets: Record<string, StacAsset>; changed: number } | undefined {
  const rows = index.get(item.id);
  if (!rows || !isRecord(item.assets)) return undefined;
  let changed = 0;
  const assets: Record<string, StacAsset> = {};
  for (const [key, asset] of Object.entries(item.assets)) {
    const row = rows.get(key);
    if (!row || !isRecord(asset)) {
      assets[key] = asset;
      continue;
    }
    assets[key] = change(asset, row);
    changed++;
  }
  return changed === 0 ? undefined : { assets, changed };
}

/**
 * The asset with `alternate[key]` set to `reference` (other alternates kept).
 *
 * @param asset The asset.
 * @param key The alternate key.
 * @param reference The alternate asset.
 * @returns The new asset.
 */
export function withAlternate(
  asset: StacAsset,
  key: string,
  reference: Record<string, unknown>,
): StacAsset {
  const alternate = isRecord(asset.alternate) ? { ...asset.alternate } : {};
  alternate[key] = reference;
  return { ...asset, alternate };
}

/** Options of {@linkcode enrichItem}. */
export interface EnrichOptions extends LockRowHrefOptions {
  /**
   * Also set `alternate.<key>.href` (and `store_endpoint_url` for S3) to the
   * lock row's location; the asset's own href is left as it is.
   * @default undefined (no alternate)
   */
  alternateKey?: string | undefined;
}

/** What a per-item step did: the new item and how many assets it changed. */
export interface ItemChange {
  /** The item (the same object when nothing changed). */
  item: StacItem;
  /** Assets changed. */
  assets: number;
}

/**
 * Enriches one item from the lock: for every asset with a lock row,
 * `file:size` from `size_bytes` and `file:checksum` from `checksum` (each only
 * when the lock has it; an existing value is otherwise kept), and with
 * `alternateKey` `alternate.<key>` from the row's location. The File Info and
 * Alternate Assets extension URIs are added when their fields were set.
 * Assets without a lock row are left as they are. The input is not mutated.
 *
 * @example
 * ```ts
 * import { enrichItem, FILE_EXTENSION, indexLockRows } from "./enrich.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: {}, links: [], assets: { data: { href: "https://h/a.tif" } } };
 * const lock = indexLockRows([{ item_id: "a", asset_key: "data", store_type: "s3", store_container: "b",
 *   store_endpoint_url: null, key: "a.tif", size_bytes: 3, etag: null, last_modified: null,
 *   checksum: "1220ab" }]);
 * const { item: out, assets } = enrichItem(item, lock, { alternateKey: "s3" });
 * equal(assets, 1);
 * deepEqual(out.assets.data, { href: "https://h/a.tif", "file:size": 3, "file:checksum": "1220ab",
 *   alternate: { s3: { href: "s3://b/a.tif" } } });
 * equal(out.stac_extensions?.[0], FILE_EXTENSION);
 * ```
 *
 * @param item The item.
 * @param index The lock index.
 * @param options The alternate key and the Swift storage URL.
 * @returns The item and the number of assets changed.
 */
export function enrichItem(
  item: StacItem,
  index: LockIndex,
  options: EnrichOptions = {},
): ItemChange {
  const alternateKey = options.alternateKey;
  let fileUsed = false;
  const locked = changeLockedAssets(item, index, (asset, row) => {
    const out: StacAsset = { ...asset };
    if (row.size_bytes !== null) {
      out["file:size"] = row.size_bytes;
      fileUsed = true;
    }
    if (row.checksum !== null) {
      out["file:checksum"] = row.checksum;
      fileUsed = true;
    }
    return alternateKey === undefined
      ? out
      : withAlternate(out, alternateKey, alternateOfLockRow(row, options));
  });
  if (!locked) return { item, assets: 0 };
  const { assets, changed } = locked;
  const alternateUsed = alternateKey !== undefined;
  let extensions = item.stac_extensions;
  if (fileUsed) extensions = withExtension(extensions, FILE_EXTENSION);
  if (alternateUsed) extensions = withExtension(extensions, ALTERNATE_ASSETS_EXTENSION);
  const out: StacItem = { ...item, assets };
  if (extensions !== undefined) out.stac_extensions = extensions;
  return { item: out, assets: changed };
}

/** Counts kept by {@linkcode transformItems}. */
export interface TransformStats {
  /** Items seen. */
  items: number;
  /** Items with at least one changed asset. */
  changedItems: number;
  /** Assets changed. */
  changedAssets: number;
}

/**
 * A new, zeroed {@linkcode TransformStats}.
 *
 * @returns The counters.
 */
export function newTransformStats(): TransformStats {
  return { items: 0, changedItems: 0, changedAssets: 0 };
}

/**
 * Applies a per-item step to batches of items, one batch at a time, counting
 * what changed into `stats`.
 *
 * @example Enriching a stream
 * ```ts
 * import { enrichItem, indexLockRows, newTransformStats, transformItems } from "./enrich.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: {}, links: [], assets: { data: { href: "a.tif" } } };
 * async function* batches() { yield [item, { ...item, id: "b" }]; }
 * const lock = indexLockRows([{ item_id: "a", asset_key: "data", store_type: "file", store_container: null,
 *   store_endpoint_url: null, key: "a.tif", size_bytes: 3, etag: null, last_modified: null, checksum: null }]);
 * const stats = newTransformStats();
 * const out = (await Array.fromAsync(transformItems(batches(), (i) => enrichItem(i, lock), stats))).flat();
 * equal(out[0]!.assets.data!["file:size"], 3);
 * equal(stats.changedItems, 1);
 * ```
 *
 * @param batches Batches of items.
 * @param step The per-item step.
 * @param stats Counters to update. @default fresh counters
 * @returns The changed batches.
 */
export async function* transformItems(
  batches: AsyncIterable<StacItem[]>,
  step: (item: StacItem) => ItemChange,
  stats: TransformStats = newTransformStats(),
): AsyncIterable<StacItem[]> {
  for await (const batch of batches) {
    const out = batch.map((item) => {
      const change = step(item);
      stats.items++;
      if (change.assets > 0) {
        stats.changedItems++;
        stats.changedAssets += change.assets;
      }
      return change.item;
    });
    yield out;
  }
}
