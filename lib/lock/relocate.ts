/**
 * Relocating the objects of an asset lock to another store (`ferry asset-lock
 * relocate`) through the transfer pipeline, and emitting the new lock with
 * the destination's observed facts and the checksum computed in flight.
 *
 * Rows outside `sourcePrefix` are carried over unchanged. A source whose bytes
 * do not match the locked size or checksum is not written (the engine errors
 * the stream before anything becomes visible) and fails its row. A re-run
 * skips objects already at the destination with the locked size and checksum.
 *
 * @module
 */
import { formatHref, type Location, type StoreType } from "../stores/location.ts";
import { openLocation, type OpenOptions } from "../stores/registry.ts";
import { redact } from "../stores/redact.ts";
import { normalizeEtag } from "../stores/store.ts";
import { type LockRow, lockRowLocation } from "./schema.ts";
import { itemAssetPath } from "./layout.ts";
import { safeHref } from "./derive.ts";
import { destinationOpenOptions, type PipelineOptions, runTransfers } from "../pipeline/engine.ts";
import type { TransferResult, TransferTask } from "../pipeline/transfer.ts";

/** How destination keys are made. */
export type RelocateLayout = "item-asset" | "source-key";

/** The layouts, for flag checking. */
export const RELOCATE_LAYOUTS: readonly RelocateLayout[] = ["item-asset", "source-key"];

/** Where the objects go. */
export interface RelocateDestination {
  /** The destination driver. */
  store_type: StoreType;
  /** Bucket or container (null for files). */
  store_container: string | null;
  /** S3 endpoint or Swift storage URL (null: from the environment). */
  store_endpoint_url: string | null;
  /** Prefix of every destination key (a folder path for files). @default "" */
  key?: string | undefined;
}

/** Options of {@linkcode relocateLock}. */
export interface RelocateOptions extends PipelineOptions {
  /** Where the objects go. */
  destination: RelocateDestination;
  /** Only rows whose key (or href, when it has a scheme) starts with this move. @default all */
  sourcePrefix?: string | undefined;
  /** How destination keys are made. @default "item-asset" */
  layout?: RelocateLayout | undefined;
  /** Rewrite objects already at the destination instead of skipping proven ones. @default false */
  overwrite?: boolean | undefined;
  /** A failed object keeps its old row and is reported instead of aborting. @default false */
  keepGoing?: boolean | undefined;
  /** Receives each finished object (copied, skipped or failed). */
  onResult?: ((result: TransferResult<RelocateRow>) => void) | undefined;
  /** Environment and retries for opening stores. */
  open?: OpenOptions | undefined;
}

/** What a transfer task carries: the row and its position. */
export interface RelocateRow {
  /** The source row. */
  row: LockRow;
  /** Index in its batch. */
  index: number;
  /** The destination location. */
  destination: Location;
}

/** One object a relocation would move (a dry run's line). */
export interface RelocatePlan {
  /** The item. */
  item_id: string;
  /** The asset. */
  asset_key: string;
  /** The source href. */
  source: string;
  /** The destination href. */
  destination: string;
  /** The locked size, when known. */
  size_bytes: number | null;
}

/** A relocation stopped on an object (without `keepGoing`). */
export class RelocateError extends Error {
  /** The row that failed. */
  readonly row: LockRow;
  /**
   * @param row The row.
   * @param cause The failure.
   */
  constructor(row: LockRow, cause: unknown) {
    super(
      redact(
        `Cannot relocate item "${row.item_id}" asset "${row.asset_key}": ${
          (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]
        }`,
      ),
      { cause },
    );
    this.name = "RelocateError";
    this.row = row;
  }
}

/**
 * The destination key of a row: `item-asset` is
 * `{prefix}{item_id}/{asset_key}{ext}` (safe names; `ext` the source key's
 * extension unless the asset key already ends with it), `source-key` is
 * `{prefix}{source key}` (without a leading `/`).
 *
 * @example
 * ```ts
 * import { destinationKey } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = { item_id: "i 1", asset_key: "B04", key: "data/x/B04.tif", store_container: null };
 * equal(destinationKey(row, "out/", "item-asset"), "out/i_1/B04.tif");
 * equal(destinationKey({ ...row, asset_key: "b.tif" }, "", "item-asset"), "i_1/b.tif");
 * equal(destinationKey(row, "out/", "source-key"), "out/data/x/B04.tif");
 * ```
 *
 * @param row The row (item id, asset key, source key).
 * @param prefix The destination prefix.
 * @param layout The layout.
 * @returns The destination key.
 */
export function destinationKey(
  row: Pick<LockRow, "item_id" | "asset_key" | "key" | "store_container">,
  prefix: string,
  layout: RelocateLayout,
): string {
  if (layout === "source-key") return `${prefix}${row.key.replace(/^\/+/, "")}`;
  return `${prefix}${itemAssetPath(row)}`;
}

/**
 * Whether a row moves: its key, or its href when the prefix has a scheme,
 * starts with `sourcePrefix`.
 *
 * @example
 * ```ts
 * import { rowMoves } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = { store_type: "s3" as const, store_container: "b", store_endpoint_url: null, key: "a/x" };
 * equal(rowMoves(row, "a/"), true);
 * equal(rowMoves(row, "s3://b/a/"), true);
 * equal(rowMoves(row, "s3://c/"), false);
 * ```
 *
 * @param row The row's location.
 * @param sourcePrefix The prefix, or undefined for all rows.
 * @returns Whether it moves.
 */
export function rowMoves(
  row: Pick<LockRow, "store_type" | "store_container" | "store_endpoint_url" | "key">,
  sourcePrefix: string | undefined,
): boolean {
  if (sourcePrefix === undefined || sourcePrefix === "") return true;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(sourcePrefix)) {
    return formatHref(row).startsWith(sourcePrefix);
  }
  return row.key.startsWith(sourcePrefix);
}

/**
 * The objects a relocation would move, without touching any store.
 *
 * @param batches Batches of lock rows.
 * @param options Destination, layout, source prefix.
 * @returns One plan per moving row, in lock order.
 */
export async function* planRelocation(
  batches: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
  options: Pick<RelocateOptions, "destination" | "sourcePrefix" | "layout">,
): AsyncIterable<RelocatePlan> {
  for await (const rows of batches) {
    for (const row of rows) {
      if (!rowMoves(row, options.sourcePrefix)) continue;
      yield {
        item_id: row.item_id,
        asset_key: row.asset_key,
        source: safeHref(row),
        destination: formatHref(destinationOf(row, options)),
        size_bytes: row.size_bytes,
      };
    }
  }
}

/**
 * Moves the rows' objects and yields the new lock, batch by batch, rows in
 * input order: moved rows point at the destination with its observed size,
 * ETag and last-modified and the checksum computed in flight; other rows are
 * unchanged. Within a batch, the largest objects (by locked size) start first,
 * so no big object runs alone at the end.
 *
 * @example Relocating between memory stores
 * ```ts
 * import { relocateLock } from "./relocate.ts";
 * import { openLocation, putBytes } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const { store } = openLocation("memory://relocate-src/x");
 * await putBytes(store, "in/a.tif", new Uint8Array(5));
 * const row = {
 *   item_id: "i", asset_key: "data", store_type: "memory" as const, store_container: "relocate-src",
 *   store_endpoint_url: null, key: "in/a.tif", size_bytes: 5, etag: null,
 *   last_modified: null, checksum: null,
 * };
 * const destination = {
 *   store_type: "memory" as const, store_container: "relocate-dst", store_endpoint_url: null, key: "out/",
 * };
 * for await (const rows of relocateLock([[row]], { destination })) {
 *   equal(rows[0]!.key, "out/i/data.tif");
 *   equal(rows[0]!.checksum?.slice(0, 4), "1220");
 * }
 * ```
 *
 * @param batches Batches of lock rows.
 * @param options Destination, layout, selection, pipeline tuning.
 * @returns Batches of new lock rows.
 * @throws {RelocateError} On the first failed object, unless `keepGoing`.
 * @throws {RangeError} At once, on invalid pipeline options.
 */
export function relocateLock(
  batches: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
  options: RelocateOptions,
): AsyncIterable<LockRow[]> {
  const openDestination = { ...options.open, ...destinationOpenOptions(options) };
  return run(batches, options, openDestination);
}

async function* run(
  batches: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
  options: RelocateOptions,
  openDestination: OpenOptions,
): AsyncIterable<LockRow[]> {
  for await (const rows of batches) {
    const out = [...rows];
    const tasks: TransferTask<RelocateRow>[] = [];
    rows.forEach((row, index) => {
      if (!rowMoves(row, options.sourcePrefix)) return;
      const destination = destinationOf(row, options);
      const source = openLocation(lockRowLocation(row), options.open);
      const target = openLocation(destination, openDestination);
      // File keys are recorded as absolute paths.
      if (destination.store_type === "file") destination.key = `/${target.key}`;
      tasks.push({
        source: { store: source.store, key: source.key },
        destination: { store: target.store, key: target.key },
        expected: {
          size: row.size_bytes ?? undefined,
          sha256: row.checksum ?? undefined,
        },
        ifExists: options.overwrite ? "overwrite" : "verify",
        data: { row, index, destination },
      });
    });
    if (tasks.length > 0) {
      // Largest first: a big object started last would run alone at the end.
      tasks.sort((a, b) => (b.expected?.size ?? -1) - (a.expected?.size ?? -1));
      for await (const result of runTransfers(tasks, options)) {
        options.onResult?.(result);
        const { row, index, destination } = result.task.data!;
        if (result.status === "failed") {
          if (!options.keepGoing) throw new RelocateError(row, result.error);
          continue;
        }
        const meta = result.destination;
        out[index] = {
          item_id: row.item_id,
          asset_key: row.asset_key,
          store_type: destination.store_type,
          store_container: destination.store_container,
          store_endpoint_url: destination.store_endpoint_url,
          key: destination.key,
          size_bytes: meta?.size ?? result.size ?? row.size_bytes,
          etag: normalizeEtag(meta?.etag) ?? null,
          last_modified: meta?.lastModified?.toISOString() ?? null,
          checksum: result.checksum ?? row.checksum,
        };
      }
    }
    yield out;
  }
}

function destinationOf(
  row: LockRow,
  options: Pick<RelocateOptions, "destination" | "layout">,
): Location {
  const d = options.destination;
  return {
    store_type: d.store_type,
    store_container: d.store_type === "file" ? null : d.store_container,
    store_endpoint_url: d.store_endpoint_url,
    key: destinationKey(row, d.key ?? "", options.layout ?? "item-asset"),
  };
}
