/**
 * The view of an items record batch that an asset lock needs: of each row
 * its `id`, the `href`, `file:size` and `store_endpoint_url` of each asset
 * and, when some asset href is relative, the `rel` and `href` of each link.
 * Only those struct children are decoded.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import type { StacItem } from "./item.ts";
import { OVERFLOW_COLUMN } from "./item_layout.ts";
import { decodeItemsBatch } from "./items_decoder.ts";

const ASSET_LOCK_FIELDS = new Set(["href", "file:size", "store_endpoint_url"]);
const LINK_LOCK_FIELDS = new Set(["rel", "href"]);

/** A relative href: no scheme (nor drive letter), not an absolute path (as in lib/lock/derive.ts). */
function isRelativeHref(href: string): boolean {
  return !href.startsWith("/") && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href);
}

function hasRelativeHref(row: { assets?: Record<string, unknown> }): boolean {
  for (const key in row.assets) {
    const href = (row.assets[key] as { href?: unknown } | null)?.href;
    if (typeof href === "string" && href !== "" && isRelativeHref(href)) return true;
  }
  return false;
}

/**
 * Decodes only what an asset lock needs of each row: `id`, and of each asset
 * its `href`, `file:size` and `store_endpoint_url` (with what the
 * `ferry:overflow` column holds merged back, as {@linkcode decodeItemsBatch}
 * does). Much cheaper than decoding whole items. When some asset href of the
 * batch is relative, each row also gets its `links` (of each link, `rel` and
 * `href`): a `self` link is what relative hrefs resolve against.
 *
 * @example
 * ```ts
 * import { decodeItemAssets } from "./item_assets_view.ts";
 * import { ItemsEncoder } from "./items_encoder.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = {
 *   type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null, properties: {},
 *   links: [], assets: { data: { href: "s3://b/k.tif", title: "T", "file:size": 3 } },
 * };
 * const [row] = decodeItemAssets(ItemsEncoder.infer([item]).encode([item]));
 * deepEqual(row!.assets, { data: { href: "s3://b/k.tif", "file:size": 3 } });
 * ```
 *
 * @param batch The record batch.
 * @returns Per row, the id, the assets' lock fields and, when some href is relative, the links.
 */
export function decodeItemAssets(
  batch: arrow.RecordBatch,
): { id: string; assets?: Record<string, unknown>; links?: unknown[] }[] {
  const rows = decodeProjected(batch, (field, data) => {
    if (field.name === "id" || field.name === OVERFLOW_COLUMN) return { field, data };
    return field.name === "assets" ? projectAssets(field, data) : undefined;
  }) as unknown as { id: string; assets?: Record<string, unknown>; links?: unknown[] }[];
  if (!rows.some(hasRelativeHref)) return rows;
  // Only now the links: with the overflow, as decodeItemsBatch merges them.
  const links = decodeProjected(batch, (field, data) => {
    if (field.name === OVERFLOW_COLUMN) return { field, data };
    return field.name === "links" ? projectLinks(field, data) : undefined;
  });
  rows.forEach((row, i) => {
    const list = links[i]!.links;
    if (Array.isArray(list)) row.links = list;
  });
  return rows;
}

/** Decodes the columns `keep` returns (projected or as they are) of a batch. */
function decodeProjected(
  batch: arrow.RecordBatch,
  keep: (
    field: arrow.Field,
    data: arrow.Data,
  ) => { field: arrow.Field; data: arrow.Data } | undefined,
): StacItem[] {
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  batch.schema.fields.forEach((field, j) => {
    const kept = keep(field, batch.data.children[j]!);
    if (kept) {
      fields.push(kept.field);
      children.push(kept.data);
    }
  });
  const schema = new arrow.Schema(fields, batch.schema.metadata);
  const data = arrow.makeData({
    type: new arrow.Struct(fields),
    length: batch.numRows,
    nullCount: 0,
    children,
  });
  return decodeItemsBatch(new arrow.RecordBatch(schema, data));
}

/** The `links` column (a list of structs) with, of each link, only `rel` and `href`. */
function projectLinks(
  field: arrow.Field,
  data: arrow.Data,
): { field: arrow.Field; data: arrow.Data } {
  if (!arrow.DataType.isList(field.type)) return { field, data };
  const item = (field.type as arrow.List).children[0]!;
  const child = data.children[0]!;
  if (!arrow.DataType.isStruct(item.type)) return { field, data };
  let links = keepStructFields(child as arrow.Data<arrow.Struct>, LINK_LOCK_FIELDS);
  const structType = links.type;
  const type = new arrow.List(
    new arrow.Field(item.name, structType, item.nullable, item.metadata),
  );
  // The list child of a slice is whole: cut it to this slice's links (and
  // rebase the offsets) so that decoding a slice decodes only its own links.
  let offsets = (data.valueOffsets as Int32Array).subarray(0, data.length + 1);
  const first = offsets[0] ?? 0;
  const end = offsets[data.length] ?? 0;
  if (first !== 0 || end !== links.length) {
    links = links.slice(first, end - first);
    offsets = offsets.map((o) => o - first);
  }
  return {
    field: new arrow.Field(field.name, type, field.nullable, field.metadata),
    data: arrow.makeData({
      type,
      offset: data.offset,
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      valueOffsets: offsets,
      child: links,
    }),
  };
}

/** A struct column cut down to the children named in `names`, same rows. */
function keepStructFields(
  data: arrow.Data<arrow.Struct>,
  names: ReadonlySet<string>,
): arrow.Data<arrow.Struct> {
  const keep: arrow.Field[] = [];
  const keepData: arrow.Data[] = [];
  data.type.children.forEach((f, k) => {
    if (names.has(f.name)) {
      keep.push(f);
      keepData.push(data.children[k]!);
    }
  });
  return arrow.makeData({
    type: new arrow.Struct(keep),
    offset: data.offset,
    length: data.length,
    nullCount: data.nullCount,
    nullBitmap: data.nullBitmap,
    children: keepData,
  });
}

/** The `assets` column with, of each struct asset, only the lock fields. */
function projectAssets(
  field: arrow.Field,
  data: arrow.Data,
): { field: arrow.Field; data: arrow.Data } {
  if (!arrow.DataType.isStruct(field.type)) return { field, data };
  const assetFields: arrow.Field[] = [];
  const assetData: arrow.Data[] = [];
  (field.type as arrow.Struct).children.forEach((asset, j) => {
    const child = data.children[j]!;
    if (!arrow.DataType.isStruct(asset.type)) {
      assetFields.push(asset);
      assetData.push(child);
      return;
    }
    const kept = keepStructFields(child as arrow.Data<arrow.Struct>, ASSET_LOCK_FIELDS);
    assetFields.push(new arrow.Field(asset.name, kept.type, asset.nullable, asset.metadata));
    assetData.push(kept);
  });
  const type = new arrow.Struct(assetFields);
  return {
    field: new arrow.Field(field.name, type, field.nullable, field.metadata),
    data: arrow.makeData({
      type,
      offset: data.offset,
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      children: assetData,
    }),
  };
}
