/**
 * The asset lock: one row per (item, asset) with where the asset lives and
 * what is known of it (size, ETag, last-modified, SHA-256 multihash), as
 * Arrow IPC on pipes and `assets.lock.parquet` in packages.
 *
 * @example Deriving a lock for an item and reading it back from Parquet
 * ```ts
 * import { deriveLock, readLockParquetRows, writeLockParquet } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 * const items = [[{ id: "a", assets: { data: { href: "s3://b/a.tif", "file:size": 4 } } }]];
 * const parts: Uint8Array<ArrayBuffer>[] = [];
 * await writeLockParquet(
 *   deriveLock(items, { probeMetadata: false }),
 *   new WritableStream({ write(c) { parts.push(c.slice()); } }),
 * );
 * const rows = await readLockParquetRows(new Blob(parts));
 * equal(rows[0]!.size_bytes, 4);
 * ```
 *
 * @module
 */
export * from "./schema.ts";
export * from "./arrow.ts";
export * from "./parquet.ts";
export * from "./checksum.ts";
export * from "./derive.ts";
export * from "./layout.ts";
export * from "./validate.ts";
export * from "./relocate.ts";
export * from "./enrich.ts";
export * from "./alternates.ts";
export * from "./lock_file.ts";
export * from "./item_selection.ts";
