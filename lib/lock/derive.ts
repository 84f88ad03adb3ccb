/**
 * Deriving an asset lock from STAC items: one row per (item, asset) with the
 * asset's location, then (optionally) each object probed for size, ETag and
 * last-modified, and its bytes hashed, with a bounded number of requests in
 * flight.
 *
 * @module
 */
import {
  formatHref,
  isAbsoluteHref,
  isRelativeHref,
  type Location,
  parseHref,
  relativeHrefResolver,
} from "../stores/location.ts";
import { openLocation, type OpenOptions } from "../stores/registry.ts";
import { redact } from "../stores/redact.ts";
import { mapOrdered } from "../pipeline/pool.ts";
import { digestObject } from "../pipeline/digest.ts";
import { multihashOf } from "../pipeline/hash_stream.ts";
import type { ChecksumAlgorithm } from "./checksum.ts";
import { type LockRow, lockRowLocation, lockTime, normalizeEndpoint } from "./schema.ts";
import { type ItemSelection, itemSelector, type SelectableItem } from "./item_selection.ts";

/** The asset key stacpkg leaves out of locks unless asked (`--include-metadata-assets`). */
export const METADATA_ASSET_KEY = "metadata";

/** What derivation reads of an asset. */
export interface LockableAsset {
  /** Where the asset lives. Assets without one are skipped. */
  href?: string | null | undefined;
  /** A size the item already states (file extension). */
  "file:size"?: number | bigint | null | undefined;
  /** An endpoint for the asset's store (stacpkg's convention). */
  store_endpoint_url?: string | null | undefined;
}

/** What derivation reads of an item: its id, assets and links (a `StacItem` fits). */
export interface LockableItem {
  /** The item id. */
  id: string;
  /** The assets by key. */
  assets?: Record<string, unknown> | null | undefined;
  /** The links: a `rel: "self"` one with an absolute href is the base of relative asset hrefs. */
  links?: readonly unknown[] | null | undefined;
}

/** Options of {@linkcode lockRowsOfItem}. */
export interface LockRowsOptions {
  /** Only these asset keys (then `metadata` is not skipped either). @default all */
  assetKeys?: readonly string[] | undefined;
  /** Keep the asset keyed `metadata`, which stacpkg leaves out. @default false */
  includeMetadataAssets?: boolean | undefined;
  /**
   * The folder (an absolute path or URL ending in `/`) that relative asset
   * hrefs of items without an absolute `self` link resolve against, so the
   * lock does not depend on the working directory it is later used in.
   * {@linkcode deriveLock} defaults it to the working directory.
   * @default undefined (such hrefs stay relative)
   */
  relativeTo?: string | undefined;
}

/**
 * The working directory as a folder href (`/path/`), or undefined when it
 * cannot be read (no read permission): then relative hrefs stay relative.
 *
 * @returns The folder.
 */
export function workingFolder(): string | undefined {
  try {
    return `${Deno.cwd().replace(/\/+$/, "")}/`;
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode deriveLock} and {@linkcode probeLockRows}. */
export interface ProbeOptions extends LockRowsOptions, ItemSelection {
  /** HEAD each object for size, ETag and last-modified. @default true */
  probeMetadata?: boolean | undefined;
  /** Read each object's bytes to record a checksum. @default "none" */
  checksum?: ChecksumAlgorithm | undefined;
  /** On a failed probe, keep the row (facts left null) and report the error. @default false */
  keepGoing?: boolean | undefined;
  /** Probes in flight. @default 8 */
  maxWorkers?: number | undefined;
  /** Receives each failed probe's error when `keepGoing` is on. */
  onError?: ((error: ProbeError) => void) | undefined;
  /** Environment and retries for opening stores. */
  open?: OpenOptions | undefined;
}

/** A probe of one lock row failed. */
export class ProbeError extends Error {
  /** The row (1-based, in lock order). */
  readonly row: number;
  /** The item. */
  readonly itemId: string;
  /** The asset. */
  readonly assetKey: string;

  /**
   * Creates a `ProbeError`
   *
   * @param row The 1-based row number.
   * @param lockRow The row that failed.
   * @param cause The failure.
   */
  constructor(row: number, lockRow: LockRow, cause: unknown) {
    super(
      redact(
        `Cannot probe row ${row} (item "${lockRow.item_id}", asset "${lockRow.asset_key}") at "${
          safeHref(lockRow)
        }": ${cause instanceof Error ? cause.message : String(cause)}`,
      ),
      { cause },
    );
    this.name = "ProbeError";
    this.row = row;
    this.itemId = lockRow.item_id;
    this.assetKey = lockRow.asset_key;
  }
}

/**
 * The href of a lock row, with any query string replaced by `<redacted>`
 * (signed URLs carry secrets there).
 *
 * @param row The row.
 * @returns A printable href.
 */
export function safeHref(row: LockRow): string {
  const href = formatHref(lockRowLocation(row));
  const q = href.indexOf("?");
  return q === -1 ? href : `${href.slice(0, q)}?<redacted>`;
}

/** Origins (`https://host`) already parsed once, with their store type. */
const checkedOrigins = new Map<string, "http" | "https">();
/** The origins of the last hrefs located, newest first (hrefs of a catalog mostly share a few). */
const recentOrigins: string[] = [];
const recentTypes: ("http" | "https")[] = [];
const RECENT_ORIGINS = 4;

/**
 * `parseHref` for a plain `http(s)://host/path[?query]` href without a URL
 * parse per href: neither path nor query can make a URL invalid, so parsing
 * each origin once gives the same result. Undefined for anything unusual
 * (then `parseHref` decides).
 */
function quickHttpLocation(href: string): Location | undefined {
  const start = href.startsWith("https://") ? 8 : href.startsWith("http://") ? 7 : 0;
  if (start === 0 || UNUSUAL_HREF.test(href)) return undefined;
  const slash = href.indexOf("/", start);
  if (slash === -1) return undefined;
  const query = href.indexOf("?", start);
  if (query !== -1 && query < slash) return undefined;
  let origin: string | undefined;
  let type: "http" | "https" | undefined;
  for (let i = 0; i < recentOrigins.length; i++) {
    const o = recentOrigins[i]!;
    if (o.length === slash && href.startsWith(o)) {
      // The same string as an earlier row's container: no slice, no lookup.
      origin = o;
      type = recentTypes[i]!;
      break;
    }
  }
  if (origin === undefined || type === undefined) {
    origin = href.slice(0, slash);
    type = checkedOrigins.get(origin);
    if (type === undefined) {
      let parsed: Location;
      try {
        parsed = parseHref(`${origin}/`);
      } catch {
        return undefined;
      }
      if (parsed.store_type !== "http" && parsed.store_type !== "https") return undefined;
      if (checkedOrigins.size > 10_000) checkedOrigins.clear();
      checkedOrigins.set(origin, type = parsed.store_type);
    }
    recentOrigins.unshift(origin);
    recentTypes.unshift(type);
    if (recentOrigins.length > RECENT_ORIGINS) {
      recentOrigins.pop();
      recentTypes.pop();
    }
  }
  if (query !== -1) {
    // A non-empty query: the whole href is the container (as parseHref does).
    if (query + 1 === href.length) return undefined;
    return { store_type: type, store_container: href, store_endpoint_url: null, key: "" };
  }
  return {
    store_type: type,
    store_container: origin,
    store_endpoint_url: null,
    key: href.slice(slash + 1),
  };
}

/** Characters URL parsing treats specially anywhere (dropped or turned into `/`), or a fragment. */
const UNUSUAL_HREF = /[\t\n\r\\#]/;

/**
 * The href of the item's first `rel: "self"` link when it is absolute (a
 * scheme of two or more letters, or a path starting with `/`), else undefined.
 */
function selfHrefOf(item: LockableItem): string | undefined {
  if (!Array.isArray(item.links)) return undefined;
  for (const link of item.links) {
    if (!link || typeof link !== "object") continue;
    const { rel, href } = link as { rel?: unknown; href?: unknown };
    if (rel !== "self" || typeof href !== "string") continue;
    return isAbsoluteHref(href) ? href : undefined;
  }
  return undefined;
}

/**
 * A `file:size` as a byte count: a non-negative whole number (a bigint, or a
 * digit string as some catalogs write it); anything else (10.5, -1, "big")
 * says nothing usable and is left unknown (null) rather than failing.
 */
function sizeOf(value: unknown): number | null {
  const n = typeof value === "number"
    ? value
    : typeof value === "bigint"
    ? Number(value)
    : typeof value === "string" && /^\d{1,16}$/.test(value)
    ? Number(value)
    : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * The unprobed lock rows of one item, in asset order. A relative asset href
 * (`./B04.tif`) resolves against the item's `self` link when that is absolute
 * (a URL or a path starting with `/`), else against `relativeTo` when given,
 * else it stays relative (to the current folder).
 *
 * @example Locations from hrefs, sizes from `file:size`
 * ```ts
 * import { lockRowsOfItem } from "./derive.ts";
 * import { deepEqual } from "node:assert/strict";
 * const rows = lockRowsOfItem({
 *   id: "a",
 *   assets: {
 *     data: { href: "s3://bucket/a.tif", "file:size": 7 },
 *     metadata: { href: "https://host/a.xml" },
 *   },
 * });
 * deepEqual(rows.map((r) => [r.asset_key, r.store_container, r.key, r.size_bytes]), [
 *   ["data", "bucket", "a.tif", 7],
 * ]);
 * ```
 *
 * @param item The item.
 * @param options Asset selection.
 * @returns The rows.
 * @throws {TypeError} For an href that does not parse.
 */
export function lockRowsOfItem(item: LockableItem, options: LockRowsOptions = {}): LockRow[] {
  const rows: LockRow[] = [];
  pushLockRows(item, options, assetKeySet(options), rows);
  return rows;
}

/**
 * The unprobed lock rows of items, in item and asset order: what
 * {@linkcode lockRowsOfItem} gives for each, in one array.
 *
 * @example
 * ```ts
 * import { lockRowsOfItems } from "./derive.ts";
 * import { equal } from "node:assert/strict";
 * const rows = lockRowsOfItems([
 *   { id: "a", assets: { data: { href: "s3://bucket/a.tif" } } },
 *   { id: "b", assets: { data: { href: "/data/b.tif" } } },
 * ]);
 * equal(rows.map((r) => r.item_id).join(), "a,b");
 * ```
 *
 * @param items The items.
 * @param options Asset selection.
 * @returns The rows.
 * @throws {TypeError} For an href that does not parse.
 */
export function lockRowsOfItems(
  items: readonly LockableItem[],
  options: LockRowsOptions = {},
): LockRow[] {
  const keys = assetKeySet(options);
  const rows: LockRow[] = [];
  for (const item of items) pushLockRows(item, options, keys, rows);
  return rows;
}

function assetKeySet(options: LockRowsOptions): Set<string> | undefined {
  return options.assetKeys && options.assetKeys.length > 0 ? new Set(options.assetKeys) : undefined;
}

function pushLockRows(
  item: LockableItem,
  options: LockRowsOptions,
  keys: Set<string> | undefined,
  rows: LockRow[],
): void {
  const assets = item.assets;
  if (!assets) return;
  let self: string | null | undefined;
  let resolve: ((href: string) => string) | undefined;
  let resolveInFolder: ((href: string) => string) | undefined;
  for (const assetKey of Object.keys(assets)) {
    const value = assets[assetKey];
    if (!value || typeof value !== "object") continue;
    const asset = value as LockableAsset;
    let href = asset.href;
    if (typeof href !== "string" || href === "") continue;
    if (
      keys ? !keys.has(assetKey) : assetKey === METADATA_ASSET_KEY && !options.includeMetadataAssets
    ) {
      continue;
    }
    let location: Location | undefined;
    let against = "";
    try {
      location = quickHttpLocation(href);
      if (location === undefined) {
        if (isRelativeHref(href)) {
          if (self === undefined) self = selfHrefOf(item) ?? null;
          if (self !== null) {
            against = ` (relative to its self link "${self}")`;
            resolve ??= relativeHrefResolver(self);
            href = resolve(href);
          } else if (options.relativeTo !== undefined) {
            against = ` (relative to "${options.relativeTo}")`;
            resolveInFolder ??= relativeHrefResolver(options.relativeTo);
            href = resolveInFolder(href);
          }
        }
        location = quickHttpLocation(href) ?? parseHref(href);
      }
    } catch (error) {
      throw new TypeError(
        redact(`Item "${item.id}", asset "${assetKey}"${against}: ${(error as Error).message}`),
      );
    }
    const endpoint = asset.store_endpoint_url;
    rows.push({
      item_id: item.id,
      asset_key: assetKey,
      store_type: location.store_type,
      store_container: location.store_container,
      store_endpoint_url:
        (endpoint === null || endpoint === undefined ? null : normalizeEndpoint(endpoint)) ??
          location.store_endpoint_url,
      key: location.key,
      size_bytes: sizeOf(asset["file:size"]),
      etag: null,
      last_modified: null,
      checksum: null,
    });
  }
}

/**
 * Probes lock rows: HEAD for size, ETag and last-modified, and with
 * `checksum: "sha256"` a streamed read of the bytes. Rows keep their order.
 *
 * @example Probing a memory object
 * ```ts
 * import { probeLockRows } from "./derive.ts";
 * import { openLocation, putBytes } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const { store, key } = openLocation("memory://probe-doc/a.bin");
 * await putBytes(store, key, new Uint8Array([1, 2, 3]));
 * const [row] = await probeLockRows([{
 *   item_id: "a", asset_key: "data", store_type: "memory", store_container: "probe-doc",
 *   store_endpoint_url: null, key: "a.bin", size_bytes: null, etag: null,
 *   last_modified: null, checksum: null,
 * }], { checksum: "sha256" });
 * equal(row!.size_bytes, 3);
 * equal(row!.checksum!.slice(0, 4), "1220");
 * ```
 *
 * @param rows The rows.
 * @param options What to probe, concurrency, error handling.
 * @param firstRow Rows before these (for error positions). @default 0
 * @returns The probed rows.
 * @throws {ProbeError} On the first failed probe unless `keepGoing`.
 */
export function probeLockRows(
  rows: readonly LockRow[],
  options: ProbeOptions = {},
  firstRow = 0,
): Promise<LockRow[]> {
  const head = options.probeMetadata ?? true;
  const hash = (options.checksum ?? "none") === "sha256";
  if (!head && !hash) return Promise.resolve([...rows]);
  return mapOrdered(rows, options.maxWorkers ?? 8, async (row, i) => {
    try {
      return await probeOne(row, head, hash, options.open);
    } catch (cause) {
      const error = new ProbeError(firstRow + i + 1, row, cause);
      if (!options.keepGoing) throw error;
      options.onError?.(error);
      return { ...row, etag: null, last_modified: null, checksum: null };
    }
  });
}

async function probeOne(
  row: LockRow,
  head: boolean,
  hash: boolean,
  open: OpenOptions | undefined,
): Promise<LockRow> {
  const { store, key } = openLocation(lockRowLocation(row), open);
  const out = { ...row };
  if (head) {
    const meta = await store.head(key);
    out.size_bytes = meta.size;
    out.etag = meta.etag ?? null;
    out.last_modified = meta.lastModified ? lockTime(meta.lastModified) : null;
  }
  if (hash) {
    const digest = await digestObject({ store, key }, { retry: open?.retry });
    const { size } = digest;
    const checksum = multihashOf(digest.sha256);
    if (out.size_bytes !== null && head && out.size_bytes !== size) {
      throw new Error(`size changed while reading: HEAD said ${out.size_bytes}, read ${size}`);
    }
    out.size_bytes ??= size;
    out.checksum = checksum;
  }
  return out;
}

/**
 * Derives a lock from batches of items: each batch's rows, probed as
 * configured, in item and asset order. With `itemIds` or `providers`, only
 * the items they select (stacpkg's `--item-ids`, `--providers`). Relative
 * hrefs of items without an absolute `self` link resolve against
 * `relativeTo`, by default the working directory: the lock holds absolute
 * paths.
 *
 * @example Without probing
 * ```ts
 * import { deriveLock } from "./derive.ts";
 * import { equal } from "node:assert/strict";
 * const items = [[{ id: "a", assets: { data: { href: "/tmp/a.tif" } } }]];
 * let n = 0;
 * for await (const rows of deriveLock(items, { probeMetadata: false })) n += rows.length;
 * equal(n, 1);
 * ```
 *
 * @param items Batches of items.
 * @param options Selection, probing, concurrency.
 * @returns Batches of lock rows.
 */
export async function* deriveLock(
  items:
    | AsyncIterable<readonly (LockableItem & SelectableItem)[]>
    | Iterable<readonly (LockableItem & SelectableItem)[]>,
  options: ProbeOptions = {},
): AsyncIterable<LockRow[]> {
  let seen = 0;
  const keep = itemSelector(options);
  const rowsOptions = { ...options, relativeTo: options.relativeTo ?? workingFolder() };
  for await (const batch of items) {
    const rows = lockRowsOfItems(keep ? batch.filter(keep) : batch, rowsOptions);
    const probed = await probeLockRows(rows, options, seen);
    seen += probed.length;
    yield probed;
  }
}

/**
 * Probes batches of lock rows (e.g. a given lock that needs checksums).
 *
 * @param batches Batches of rows.
 * @param options What to probe.
 * @returns Batches of probed rows.
 */
export async function* probeLock(
  batches: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
  options: ProbeOptions = {},
): AsyncIterable<LockRow[]> {
  let seen = 0;
  for await (const rows of batches) {
    const probed = await probeLockRows(rows, options, seen);
    seen += probed.length;
    yield probed;
  }
}
