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
import { formatHref, type Location, resolvePosix, type StoreType } from "../stores/location.ts";
import { NotSupportedError } from "../stores/errors.ts";
import { openLocation, type OpenOptions } from "../stores/registry.ts";
import { redact } from "../stores/redact.ts";
import { normalizeEtag } from "../stores/store.ts";
import { type LockRow, lockRowLocation, lockTime } from "./schema.ts";
import { itemAssetPath } from "./layout.ts";
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

/** A relocation stopped on an object (without `keepGoing`). */
export class RelocateError extends Error {
  /** The row that failed. */
  readonly row: LockRow;
  /**
   * Creates a `RelocateError`
   *
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
 * `{prefix}/{item_id}/{asset_key}{ext}` (safe names; `ext` the source key's
 * extension unless the asset key already ends with it), `source-key` is
 * `{prefix}/{source key}` (without a leading `/`); the prefix is a folder,
 * joined with one `/` whether it ends with one or not, as stacpkg joins it.
 *
 * @example
 * ```ts
 * import { destinationKey } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = { item_id: "i 1", asset_key: "B04", key: "data/x/B04.tif", store_container: null };
 * equal(destinationKey(row, "out/", "item-asset"), "out/i_1/B04.tif");
 * equal(destinationKey({ ...row, asset_key: "b.tif" }, "", "item-asset"), "i_1/b.tif");
 * equal(destinationKey(row, "out/", "source-key"), "out/data/x/B04.tif");
 * equal(destinationKey(row, "out", "item-asset"), "out/i_1/B04.tif");
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
  const path = layout === "source-key" ? row.key.replace(/^\/+/, "") : itemAssetPath(row);
  if (prefix === "") return path;
  // A folder, as stacpkg joins it (posixpath.join): `out` and `out/` both give `out/<path>`.
  const folder = prefix.replace(/\/+$/, "");
  return folder === "" ? `/${path}` : `${folder}/${path}`;
}

/**
 * Whether a row moves: its key, or its href when the prefix has a scheme, is
 * `sourcePrefix` or lies below it (a path boundary, as stacpkg matches:
 * `data/in` takes `data/in/x`, not `data/inbox/x`).
 *
 * @example
 * ```ts
 * import { rowMoves } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = { store_type: "s3" as const, store_container: "b", store_endpoint_url: null, key: "a/x" };
 * equal(rowMoves(row, "a/"), true);
 * equal(rowMoves(row, "s3://b/a/"), true);
 * equal(rowMoves(row, "s3://c/"), false);
 * equal(rowMoves({ ...row, key: "ab/x" }, "a"), false);
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
  const folder = sourcePrefix.replace(/\/+$/, "");
  const value = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(sourcePrefix) ? formatHref(row) : row.key;
  return value === folder || value.startsWith(`${folder}/`);
}

/**
 * One row of a relocation: the planned destination row and the source row
 * whose object goes there (none when the destination row has no source).
 */
export interface RelocationPair {
  /** The source row, when there is one. */
  source?: LockRow | undefined;
  /** The destination row: its location, and the facts known before any copy. */
  target: LockRow;
}

/** Store types ferry reads but cannot write (a destination there is refused). */
export const READ_ONLY_STORE_TYPES: ReadonlySet<StoreType> = new Set([
  "http",
  "https",
  "gs",
  "az",
]);

/**
 * The destination row of a moving source row: the destination's location
 * (relative file keys made absolute) with the facts the copy keeps (size
 * and checksum, which are the bytes'), ETag and last-modified empty (they
 * are the destination object's, known only once it is written).
 *
 * @param row The source row.
 * @param location The destination location.
 * @returns The planned destination row.
 */
export function plannedRow(row: LockRow, location: Location): LockRow {
  const key = location.store_type === "file" && !location.key.startsWith("/")
    ? resolvePosix(Deno.cwd(), location.key)
    : location.key;
  return {
    item_id: row.item_id,
    asset_key: row.asset_key,
    store_type: location.store_type,
    store_container: location.store_container,
    store_endpoint_url: location.store_endpoint_url,
    key,
    size_bytes: row.size_bytes,
    etag: null,
    last_modified: null,
    checksum: row.checksum,
  };
}

/**
 * The pairs of a relocation to one destination (`--store-type` and its
 * flags): rows under `sourcePrefix` get a destination row, the others are
 * carried over as they are.
 *
 * @example
 * ```ts
 * import { relocationPairs } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = {
 *   item_id: "a", asset_key: "data", store_type: "s3" as const, store_container: "src",
 *   store_endpoint_url: null, key: "x/a.tif", size_bytes: 3, etag: "e",
 *   last_modified: null, checksum: null,
 * };
 * const destination = { store_type: "gs" as const, store_container: "dst", store_endpoint_url: null, key: "p/" };
 * for await (const [pair] of relocationPairs([[row]], { destination })) {
 *   equal(pair!.target.key, "p/a/data.tif");
 *   equal(pair!.target.size_bytes, 3);
 *   equal(pair!.target.etag, null);
 * }
 * ```
 *
 * @param batches Batches of source rows.
 * @param options Destination, layout, source prefix.
 * @returns Batches of pairs, in source order.
 */
export async function* relocationPairs(
  batches: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
  options: Pick<RelocateOptions, "destination" | "sourcePrefix" | "layout">,
): AsyncIterable<RelocationPair[]> {
  for await (const rows of batches) {
    yield rows.map((row) =>
      rowMoves(row, options.sourcePrefix)
        ? { source: row, target: plannedRow(row, destinationOf(row, options)) }
        : { source: row, target: row }
    );
  }
}

function pairKey(itemId: string, assetKey: string): string {
  return `${itemId}\u0000${assetKey}`;
}

/**
 * The pairs of a relocation into a destination lock (stacpkg's
 * `--destination-lock`): each destination row, in its order, with the source
 * row of the same (`item_id`, `asset_key`). Source rows without a
 * destination row are left out; a destination row without a source row is
 * kept as it is. The source rows are indexed in memory.
 *
 * @example
 * ```ts
 * import { relocationPairsFromLock } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = {
 *   item_id: "a", asset_key: "data", store_type: "s3" as const, store_container: "src",
 *   store_endpoint_url: null, key: "a.tif", size_bytes: 3, etag: "e", last_modified: null, checksum: null,
 * };
 * const target = { ...row, store_container: "dst", size_bytes: null, etag: null };
 * for await (const [pair] of relocationPairsFromLock([[row]], [[target]])) {
 *   equal(pair!.source, row);
 *   equal(pair!.target.store_container, "dst");
 *   equal(pair!.target.size_bytes, 3);
 * }
 * ```
 *
 * @param sources Batches of source rows.
 * @param destinations Batches of destination rows.
 * @returns Batches of pairs, in destination order.
 * @throws {SyntaxError} When a (`item_id`, `asset_key`) appears twice in either lock.
 */
export async function* relocationPairsFromLock(
  sources: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
  destinations: AsyncIterable<readonly LockRow[]> | Iterable<readonly LockRow[]>,
): AsyncIterable<RelocationPair[]> {
  const index = new Map<string, LockRow>();
  let n = 0;
  for await (const rows of sources) {
    for (const row of rows) {
      n++;
      const key = pairKey(row.item_id, row.asset_key);
      if (index.has(key)) {
        throw new SyntaxError(
          `Invalid source lock: row ${n} repeats item "${row.item_id}" asset "${row.asset_key}"`,
        );
      }
      index.set(key, row);
    }
  }
  const seen = new Set<string>();
  let d = 0;
  for await (const rows of destinations) {
    const out: RelocationPair[] = [];
    for (const row of rows) {
      d++;
      const key = pairKey(row.item_id, row.asset_key);
      if (seen.has(key)) {
        throw new SyntaxError(
          `Invalid destination lock: row ${d} repeats item "${row.item_id}" asset "${row.asset_key}"`,
        );
      }
      seen.add(key);
      const source = index.get(key);
      if (!source) {
        out.push({ target: row });
        continue;
      }
      const target = plannedRow(source, lockRowLocation(row));
      if (row.size_bytes !== null) target.size_bytes ??= row.size_bytes;
      if (row.checksum !== null) target.checksum ??= row.checksum;
      out.push({ source, target });
    }
    yield out;
  }
}

/**
 * Whether a pair moves bytes: it has a source row at another location than
 * its target row.
 *
 * @example
 * ```ts
 * import { pairMoves } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = {
 *   item_id: "a", asset_key: "d", store_type: "s3" as const, store_container: "b",
 *   store_endpoint_url: null, key: "k", size_bytes: null, etag: null, last_modified: null, checksum: null,
 * };
 * equal(pairMoves({ source: row, target: { ...row } }), false);
 * equal(pairMoves({ source: row, target: { ...row, key: "k2" } }), true);
 * equal(pairMoves({ target: row }), false);
 * ```
 *
 * @param pair The pair.
 * @returns True when its object is copied.
 */
export function pairMoves(pair: RelocationPair): pair is Required<RelocationPair> {
  return pair.source !== undefined && !sameLocation(pair.source, pair.target);
}

function sameLocation(a: LockRow, b: LockRow): boolean {
  return a.store_type === b.store_type && a.store_container === b.store_container &&
    a.key === b.key && (a.store_endpoint_url ?? null) === (b.store_endpoint_url ?? null);
}

/**
 * The lock a relocation would emit, without touching any store (a dry run):
 * each moving pair's destination row with the facts known before the copy
 * (size, checksum; ETag and last-modified empty), other rows as a real run
 * emits them.
 *
 * @example
 * ```ts
 * import { plannedLock, relocationPairs } from "./relocate.ts";
 * import { equal } from "node:assert/strict";
 * const row = {
 *   item_id: "a", asset_key: "data", store_type: "s3" as const, store_container: "src",
 *   store_endpoint_url: null, key: "a.tif", size_bytes: 3, etag: "e", last_modified: null, checksum: null,
 * };
 * const destination = { store_type: "s3" as const, store_container: "dst", store_endpoint_url: null };
 * for await (const [out] of plannedLock(relocationPairs([[row]], { destination }))) {
 *   equal(out!.key, "a/data.tif");
 *   equal(out!.etag, null);
 * }
 * ```
 *
 * @param pairs Batches of pairs.
 * @returns Batches of lock rows.
 */
export async function* plannedLock(
  pairs: AsyncIterable<readonly RelocationPair[]> | Iterable<readonly RelocationPair[]>,
): AsyncIterable<LockRow[]> {
  for await (const batch of pairs) {
    yield batch.map((pair) => pairMoves(pair) ? pair.target : pair.source ?? pair.target);
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
  return relocatePairs(relocationPairs(batches, options), options);
}

/**
 * Moves each pair's object from its source row's location to its target
 * row's and yields the new lock in pair order: moved rows with the
 * destination's observed facts and the checksum computed in flight; a pair
 * whose source and target are one location, its source row; a target
 * without a source, as it is. A target on a store ferry cannot write
 * (http, https, gs, az) fails its row.
 *
 * @param pairs Batches of pairs ({@linkcode relocationPairs},
 *   {@linkcode relocationPairsFromLock}).
 * @param options Selection is ignored here; pipeline tuning, overwrite, keepGoing.
 * @returns Batches of new lock rows.
 * @throws {RelocateError} On the first failed object, unless `keepGoing`.
 * @throws {RangeError} At once, on invalid pipeline options.
 */
export function relocatePairs(
  pairs: AsyncIterable<readonly RelocationPair[]> | Iterable<readonly RelocationPair[]>,
  options: Omit<RelocateOptions, "destination"> & { destination?: RelocateDestination | undefined },
): AsyncIterable<LockRow[]> {
  const openDestination = { ...options.open, ...destinationOpenOptions(options) };
  return run(pairs, options, openDestination);
}

async function* run(
  batches: AsyncIterable<readonly RelocationPair[]> | Iterable<readonly RelocationPair[]>,
  options: Omit<RelocateOptions, "destination">,
  openDestination: OpenOptions,
): AsyncIterable<LockRow[]> {
  for await (const pairs of batches) {
    const out = pairs.map((pair) => pair.source ?? pair.target);
    const tasks: TransferTask<RelocateRow>[] = [];
    const refused: TransferResult<RelocateRow>[] = [];
    pairs.forEach((pair, index) => {
      if (!pairMoves(pair)) return;
      const row = pair.source;
      const destination = lockRowLocation(pair.target);
      const source = openLocation(lockRowLocation(row), options.open);
      const task: TransferTask<RelocateRow> = {
        source: { store: source.store, key: source.key },
        destination: { store: source.store, key: destination.key },
        expected: {
          size: row.size_bytes ?? undefined,
          sha256: row.checksum ?? undefined,
        },
        ifExists: options.overwrite ? "overwrite" : "verify",
        data: { row, index, destination },
      };
      if (READ_ONLY_STORE_TYPES.has(destination.store_type)) {
        refused.push({
          task,
          status: "failed",
          attempts: 0,
          error: new NotSupportedError(
            `Cannot write to "${
              formatHref(destination)
            }": ferry reads ${destination.store_type} objects but does not write them`,
          ),
        });
        return;
      }
      const target = openLocation(destination, openDestination);
      // File keys are recorded as absolute paths.
      if (destination.store_type === "file") destination.key = `/${target.key}`;
      task.destination = { store: target.store, key: target.key };
      tasks.push(task);
    });
    const finish = (result: TransferResult<RelocateRow>) => {
      options.onResult?.(result);
      const { row, index, destination } = result.task.data!;
      if (result.status === "failed") {
        if (!options.keepGoing) throw new RelocateError(row, result.error);
        return;
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
        last_modified: meta?.lastModified ? lockTime(meta.lastModified) : null,
        checksum: result.checksum ?? row.checksum,
      };
    };
    for (const result of refused) finish(result);
    if (tasks.length > 0) {
      // Largest first: a big object started last would run alone at the end.
      tasks.sort((a, b) => (b.expected?.size ?? -1) - (a.expected?.size ?? -1));
      for await (const result of runTransfers(tasks, options)) finish(result);
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
