/**
 * STAC items: JSON/NDJSON input with filters, GeoJSON ↔ WKB, the
 * stac-geoparquet Arrow layout, Arrow IPC streams on pipes, streaming
 * stac-geoparquet files and the terminal preview.
 *
 * @example Items to stac-geoparquet bytes and back
 * ```ts
 * import { itemsFromJsonText, readItemsParquet, writeItemsParquet } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 * const items = itemsFromJsonText(JSON.stringify({ type: "Feature", stac_version: "1.0.0", id: "a",
 *   geometry: { type: "Point", coordinates: [0, 0] }, properties: {}, links: [], assets: {} }));
 * async function* batches() { yield items; }
 * const chunks: Uint8Array[] = [];
 * await writeItemsParquet(batches(), new WritableStream({ write(c) { chunks.push(c); } }));
 * const bytes = new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
 * equal((await Array.fromAsync(readItemsParquet(bytes))).flat()[0]!.id, "a");
 * ```
 *
 * @module
 */
export * from "./item.ts";
export * from "./json_input.ts";
export * from "./wkb.ts";
export { type DatetimeFormat, formatDatetimeMicros, parseDatetimeMicros } from "./datetime.ts";
export {
  CORE_COLUMNS,
  DATETIME_FORMAT_KEY,
  isFerrySchema,
  JSON_ENCODING_KEY,
  OVERFLOW_COLUMN,
  STAC_GEOPARQUET_KEY,
  STAC_GEOPARQUET_VERSION,
} from "./item_layout.ts";
export { ItemsEncoder, type ItemsEncoderOptions, ItemsSchemaInference } from "./items_encoder.ts";
export { ItemsBatchBuilder } from "./item_batch_builder.ts";
export { decodeItemsBatch, itemsSchemaProblem } from "./items_decoder.ts";
export { decodeItemAssets } from "./item_assets_view.ts";
export * from "./ipc.ts";
export * from "./ndjson_batches.ts";
export * from "./ndjson_schema.ts";
export * from "./geoparquet.ts";
export * from "./geoparquet_read.ts";
export * from "./foreign_items.ts";
export * from "./spooled_items.ts";
export * from "./preview.ts";
