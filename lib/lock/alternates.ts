/**
 * Alternate Assets (`asset.alternate.<key>`, `alternate:name`): add an
 * alternate from the asset lock, remove one, and promote one to the asset's
 * primary href (replace or switch).
 *
 * @module
 */
import {
  ALTERNATE_ASSETS_EXTENSION,
  alternateOfLockRow,
  changeLockedAssets,
  type ItemChange,
  type LockIndex,
  type LockRowHrefOptions,
  withAlternate,
  withExtension,
} from "./enrich.ts";
import { isJsonObject as isRecord, type StacAsset, type StacItem } from "../stac/item.ts";

/** The promotion modes of {@linkcode promoteAlternate}. */
export const PROMOTE_MODES = ["replace", "switch"] as const;

/** One of {@linkcode PROMOTE_MODES}. */
export type PromoteMode = typeof PROMOTE_MODES[number];

/** The default `alternate:name` of the demoted href in switch mode. */
export const DEFAULT_SWITCHED_ALTERNATE_NAME = "original";

function checkKey(key: string): void {
  if (typeof key !== "string" || key === "") {
    throw new TypeError("Invalid alternate key: it is empty");
  }
}

/** Options of {@linkcode addAlternate}. */
export interface AddAlternateOptions extends LockRowHrefOptions {
  /** The key under `alternate`. */
  alternateKey: string;
  /** The `alternate:name` of the new alternate. @default undefined (none) */
  alternateName?: string | undefined;
}

/**
 * Sets `alternate.<key>` of every asset that has a lock row to the row's
 * location (`href`, and `store_endpoint_url` for S3 rows with an endpoint),
 * with `alternate:name` when given, replacing an alternate of that key; adds
 * the Alternate Assets extension URI. The input is not mutated.
 *
 * @example
 * ```ts
 * import { addAlternate } from "./alternates.ts";
 * import { indexLockRows } from "./enrich.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: {}, links: [], assets: { data: { href: "https://h/a.tif" } } };
 * const lock = indexLockRows([{ item_id: "a", asset_key: "data", store_type: "s3", store_container: "b",
 *   store_endpoint_url: null, key: "a.tif", size_bytes: 3, etag: null, last_modified: null, checksum: null }]);
 * const { item: out } = addAlternate(item, lock, { alternateKey: "s3", alternateName: "S3" });
 * deepEqual(out.assets.data!.alternate, { s3: { href: "s3://b/a.tif", "alternate:name": "S3" } });
 * ```
 *
 * @param item The item.
 * @param index The lock index.
 * @param options The key, the name and the Swift storage URL.
 * @returns The item and the number of assets changed.
 * @throws {TypeError} For an empty key or name.
 */
export function addAlternate(
  item: StacItem,
  index: LockIndex,
  options: AddAlternateOptions,
): ItemChange {
  checkKey(options.alternateKey);
  if (options.alternateName === "") throw new TypeError("Invalid alternate name: it is empty");
  const locked = changeLockedAssets(item, index, (asset, row) => {
    const reference = alternateOfLockRow(row, options);
    if (options.alternateName !== undefined) reference["alternate:name"] = options.alternateName;
    return withAlternate(asset, options.alternateKey, reference);
  });
  if (!locked) return { item, assets: 0 };
  return withAlternateAssets(item, locked.assets, locked.changed);
}

/** The item with its new assets and the alternate-assets extension, when any asset changed. */
function withAlternateAssets(
  item: StacItem,
  assets: Record<string, StacAsset>,
  changed: number,
): ItemChange {
  if (changed === 0) return { item, assets: 0 };
  const stac_extensions = withExtension(item.stac_extensions, ALTERNATE_ASSETS_EXTENSION);
  return { item: { ...item, assets, stac_extensions }, assets: changed };
}

function usesAlternates(assets: Record<string, StacAsset>): boolean {
  return Object.values(assets).some((a) =>
    isRecord(a) && (isRecord(a.alternate) || typeof a["alternate:name"] === "string")
  );
}

/**
 * Removes `alternate.<key>` from every asset; an `alternate` left empty is
 * dropped, and when no asset of the item carries `alternate` or
 * `alternate:name` any more, so is the Alternate Assets extension URI. Items
 * without that alternate are returned as they are.
 *
 * @example
 * ```ts
 * import { removeAlternate } from "./alternates.ts";
 * import { ALTERNATE_ASSETS_EXTENSION } from "./enrich.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: {}, links: [], stac_extensions: [ALTERNATE_ASSETS_EXTENSION],
 *   assets: { data: { href: "a.tif", alternate: { s3: { href: "s3://b/a.tif" } } } } };
 * const { item: out } = removeAlternate(item, "s3");
 * deepEqual(out.assets.data, { href: "a.tif" });
 * deepEqual(out.stac_extensions, []);
 * ```
 *
 * @param item The item.
 * @param alternateKey The key under `alternate`.
 * @returns The item and the number of assets changed.
 * @throws {TypeError} For an empty key.
 */
export function removeAlternate(item: StacItem, alternateKey: string): ItemChange {
  checkKey(alternateKey);
  if (!isRecord(item.assets)) return { item, assets: 0 };
  let changed = 0;
  const assets: Record<string, StacAsset> = {};
  for (const [key, asset] of Object.entries(item.assets)) {
    if (!isRecord(asset) || !isRecord(asset.alternate) || !(alternateKey in asset.alternate)) {
      assets[key] = asset;
      continue;
    }
    const { [alternateKey]: _, ...rest } = asset.alternate;
    const out: StacAsset = { ...asset, alternate: rest };
    if (Object.keys(rest).length === 0) delete out.alternate;
    assets[key] = out;
    changed++;
  }
  if (changed === 0) return { item, assets: 0 };
  const out: StacItem = { ...item, assets };
  if (!usesAlternates(assets) && Array.isArray(item.stac_extensions)) {
    out.stac_extensions = item.stac_extensions.filter((u) => u !== ALTERNATE_ASSETS_EXTENSION);
  }
  return { item: out, assets: changed };
}

/** Options of {@linkcode promoteAlternate}. */
export interface PromoteAlternateOptions {
  /** The key under `alternate` whose href becomes the asset's href. */
  alternateKey: string;
  /** `replace` or `switch`. @default "replace" */
  mode?: PromoteMode | undefined;
  /** `alternate:name` of the demoted href in switch mode. @default "original" */
  switchedAlternateName?: string | undefined;
  /** Replace mode only: drop the asset's whole `alternate` afterwards. @default false */
  dropAlternates?: boolean | undefined;
}

/**
 * Makes `alternate.<key>.href` the asset's href, for every asset that has a
 * non-empty one. The asset gets `alternate:name` = key, and the alternate's
 * `store_endpoint_url` (removed when the alternate has none).
 *
 * - `replace`: `alternate.<key>` stays as it is (as stacpkg); with
 *   `dropAlternates` the asset's whole `alternate` is removed.
 * - `switch`: the old href (and its `store_endpoint_url`) takes the
 *   alternate's place under the same key, with `alternate:name` =
 *   `switchedAlternateName` (default `original`).
 *
 * Promoting twice in switch mode swaps the hrefs back. Assets without that
 * alternate are left as they are; the Alternate Assets extension URI is
 * present on every changed item. The input is not mutated.
 *
 * @example Switch
 * ```ts
 * import { promoteAlternate } from "./alternates.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: {}, links: [], assets: { data: { href: "a.tif", alternate: { s3: { href: "s3://b/a.tif" } } } } };
 * const { item: out } = promoteAlternate(item, { alternateKey: "s3", mode: "switch" });
 * deepEqual(out.assets.data, { href: "s3://b/a.tif", "alternate:name": "s3",
 *   alternate: { s3: { href: "a.tif", "alternate:name": "original" } } });
 * ```
 *
 * @param item The item.
 * @param options The key, the mode, the switched name, whether to drop alternates.
 * @returns The item and the number of assets changed.
 * @throws {TypeError} For an empty key or name, or `dropAlternates` in switch mode.
 * @throws {RangeError} For an unknown mode.
 */
export function promoteAlternate(item: StacItem, options: PromoteAlternateOptions): ItemChange {
  const key = options.alternateKey;
  checkKey(key);
  const mode = options.mode ?? "replace";
  if (!PROMOTE_MODES.includes(mode)) {
    throw new RangeError(
      `Invalid promotion mode "${mode}": expected one of ${PROMOTE_MODES.join(", ")}`,
    );
  }
  const switchedName = options.switchedAlternateName ?? DEFAULT_SWITCHED_ALTERNATE_NAME;
  if (switchedName === "") throw new TypeError("Invalid switched alternate name: it is empty");
  if (options.dropAlternates && mode !== "replace") {
    throw new TypeError("Dropping alternates is only possible in replace mode");
  }
  if (!isRecord(item.assets)) return { item, assets: 0 };
  let changed = 0;
  const assets: Record<string, StacAsset> = {};
  for (const [assetKey, asset] of Object.entries(item.assets)) {
    const alternates = isRecord(asset) && isRecord(asset.alternate) ? asset.alternate : undefined;
    const chosen = alternates?.[key];
    if (!alternates || !isRecord(chosen) || typeof chosen.href !== "string" || chosen.href === "") {
      assets[assetKey] = asset;
      continue;
    }
    const out: StacAsset = { ...asset, href: chosen.href, "alternate:name": key };
    if (typeof chosen.store_endpoint_url === "string" && chosen.store_endpoint_url !== "") {
      out.store_endpoint_url = chosen.store_endpoint_url;
    } else delete out.store_endpoint_url;
    if (mode === "switch") {
      const demoted: Record<string, unknown> = {};
      if (typeof asset.href === "string" && asset.href !== "") {
        demoted.href = asset.href;
        if (typeof asset.store_endpoint_url === "string" && asset.store_endpoint_url !== "") {
          demoted.store_endpoint_url = asset.store_endpoint_url;
        }
        demoted["alternate:name"] = switchedName;
        out.alternate = { ...alternates, [key]: demoted };
      } else {
        const { [key]: _, ...rest } = alternates;
        out.alternate = rest;
        if (Object.keys(rest).length === 0) delete out.alternate;
      }
    } else if (options.dropAlternates) {
      delete out.alternate;
    }
    assets[assetKey] = out;
    changed++;
  }
  return withAlternateAssets(item, assets, changed);
}
