/**
 * STAC packages: a folder with `items.parquet` (stac-geoparquet),
 * `assets.lock.parquet`, optional asset bytes under `assets/` and extra
 * files; built atomically, described by `inspect`.
 *
 * @example Describing a package's media types
 * ```ts
 * import { mediaTypeOf } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 * equal(mediaTypeOf("items.parquet"), "application/vnd.apache.parquet");
 * ```
 *
 * @module
 */
export * from "./inspect.ts";
export * from "./build.ts";
export * from "./demo.ts";
