/**
 * Where an asset goes when ferry lays it out by item and asset (relocate's
 * `item-asset` layout, `build --include-assets`): `{item_id}/{asset_key}{ext}`
 * with both names made safe, as stacpkg does.
 *
 * @module
 */
import type { LockRow } from "./schema.ts";

/**
 * Makes an item id or asset key safe as one key segment: runs of characters
 * outside `A-Za-z0-9._=-` become `_`, and leading or trailing dots and
 * underscores are dropped (so no segment is `.` or `..`).
 *
 * @example
 * ```ts
 * import { safeSegment } from "./layout.ts";
 * import { equal } from "node:assert/strict";
 * equal(safeSegment("S2A: tile/1"), "S2A_tile_1");
 * equal(safeSegment(".."), "_");
 * ```
 *
 * @param value The id or key.
 * @param fallback Used when nothing safe remains.
 * @returns The segment.
 */
export function safeSegment(value: string, fallback = "_"): string {
  const text = value.trim().replace(/[^A-Za-z0-9._=-]+/g, "_").replace(/^[._]+|[._]+$/g, "");
  return text === "" ? fallback : text;
}

/**
 * `{item_id}/{asset_key}{ext}` for a row, `ext` being the source key's
 * extension unless the asset key already ends with it.
 *
 * @example
 * ```ts
 * import { itemAssetPath } from "./layout.ts";
 * import { equal } from "node:assert/strict";
 * const row = { item_id: "i 1", asset_key: "B04", key: "data/x/B04.tif", store_container: null };
 * equal(itemAssetPath(row), "i_1/B04.tif");
 * equal(itemAssetPath({ ...row, asset_key: "b.tif" }), "i_1/b.tif");
 * ```
 *
 * @param row The row's item id, asset key and source location.
 * @returns The relative path.
 */
export function itemAssetPath(
  row: Pick<LockRow, "item_id" | "asset_key" | "key" | "store_container">,
): string {
  const item = safeSegment(row.item_id, "item");
  let asset = safeSegment(row.asset_key, "asset");
  const source = row.key !== "" ? row.key : (row.store_container ?? "").replace(/[?#].*$/, "");
  const base = source.slice(source.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot) : "";
  if (ext && !asset.endsWith(ext)) asset += ext;
  return `${item}/${asset}`;
}
