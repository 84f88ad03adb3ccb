/**
 * Building a package folder: `items.parquet` (stac-geoparquet),
 * `assets.lock.parquet`, optional asset bytes under `assets/` and extra
 * files. Everything is written into a temporary folder beside the output and
 * renamed into place at the end: never half a package.
 *
 * @module
 */
import type * as arrow from "apache-arrow";
import {
  decodeItemAssets,
  decodeItemsBatch,
  itemsRecordBatchesOf,
  readIpcBatches,
  sliceIpcBatch,
  type StacItem,
  writeItemsParquet,
  writeRecordBatchesParquet,
} from "../stac/mod.ts";
import type { ChecksumAlgorithm } from "../lock/checksum.ts";
import { type PipelineOptions, runTransfers } from "../pipeline/engine.ts";
import type { TransferTask } from "../pipeline/transfer.ts";
import { FileStore } from "../stores/file.ts";
import { lockRowsOfItems, type ProbeError, probeLock, workingFolder } from "../lock/derive.ts";
import { type ItemSelection, itemSelector, type SelectableItem } from "../lock/item_selection.ts";
import { writeLockParquet } from "../lock/parquet.ts";
import { readLockFile } from "../lock/lock_file.ts";
import { type LockRow, lockRowLocation } from "../lock/schema.ts";
import { itemAssetPath } from "../lock/layout.ts";
import { ConflictError } from "../stores/errors.ts";
import { openLocation, type OpenOptions } from "../stores/registry.ts";
import { ASSETS_FOLDER, ITEMS_FILE, LOCK_FILE, type PackageFile, packageFiles } from "./inspect.ts";
import { pathExists } from "../fs.ts";

/** Options of {@linkcode buildPackage}. */
export interface BuildOptions extends ItemSelection {
  /**
   * Use this lock (ferry's or stacpkg's; Parquet or an Arrow IPC stream, in a
   * file, a FIFO or `/dev/fd/N`) instead of deriving one from the items.
   */
  assetLock?: string | undefined;
  /** Extra files or folders copied into the package root under their own names. */
  includes?: readonly string[] | undefined;
  /** Copy each asset's bytes under `assets/{item}/{asset}{ext}` and point the lock there. @default false */
  includeAssets?: boolean | undefined;
  /** HEAD each asset of a derived lock for size, ETag, last-modified. @default true */
  probeMetadata?: boolean | undefined;
  /** Record each asset's SHA-256 multihash. @default "none" */
  checksum?: ChecksumAlgorithm | undefined;
  /** Only these asset keys in a derived lock. @default all */
  assetKeys?: readonly string[] | undefined;
  /** Keep `metadata` assets in a derived lock. @default false */
  includeMetadataAssets?: boolean | undefined;
  /** Keep a row whose probe failed (facts null) and report it. @default false */
  keepGoing?: boolean | undefined;
  /** Requests (probes, copies) in flight. @default 8 */
  maxWorkers?: number | undefined;
  /** Chunking, memory limit and retries of the asset copies (`includeAssets`). */
  pipeline?: PipelineOptions | undefined;
  /** Receives failed probes under `keepGoing`. */
  onError?: ((error: ProbeError) => void) | undefined;
  /** Environment and retries for opening stores. */
  open?: OpenOptions | undefined;
}

/** What {@linkcode buildPackage} reports. */
export interface BuildReport {
  /** The package folder. */
  package: string;
  /** Items written. */
  items: number;
  /** Lock rows written. */
  assets: number;
  /** Every file of the package. */
  files: PackageFile[];
}

/**
 * Where `--include-assets` puts a row's bytes, relative to the package root:
 * `assets/{item}/{asset}{ext}`, `ext` being the source key's extension unless
 * the asset key already ends with it.
 *
 * @param row The lock row.
 * @returns The relative path.
 */
export function packagedAssetPath(row: LockRow): string {
  return `${ASSETS_FOLDER}/${itemAssetPath(row)}`;
}

/**
 * The items of a package: batches of items, or the bytes of an Arrow IPC
 * stream of items (what `ferry items from-*` write on a pipe). An IPC stream
 * in ferry's stac-geoparquet layout goes to `items.parquet` batch by batch
 * without being decoded into items; the lock reads only ids and asset hrefs.
 */
export type BuildItems =
  | AsyncIterable<StacItem[]>
  | Iterable<StacItem[]>
  | ReadableStream<Uint8Array>;

/**
 * Builds a package folder from items (and optionally a given lock).
 *
 * @example A package of one local asset
 * ```ts ignore
 * import { buildPackage } from "./build.ts";
 * const items = [[{ type: "Feature", stac_version: "1.1.0", id: "a", geometry: null,
 *   properties: { datetime: "2024-01-01T00:00:00Z" }, links: [],
 *   assets: { data: { href: "/data/a.tif" } } }]];
 * await buildPackage(items, "./pkg", { checksum: "sha256", includeAssets: true });
 * ```
 *
 * @param items Batches of items, or an Arrow IPC stream of items.
 * @param outputDir The package folder to create; must not exist.
 * @param options Lock source, includes, probing.
 * @returns What was written.
 * @throws {ConflictError} When `outputDir` exists already.
 * @throws {Deno.errors.NotFound} When an include does not exist.
 */
export async function buildPackage(
  items: BuildItems,
  outputDir: string,
  options: BuildOptions = {},
): Promise<BuildReport> {
  const output = outputDir.replace(/(.)\/+$/, "$1");
  if (await pathExists(output)) {
    throw new ConflictError(`Output folder "${outputDir}" already exists`);
  }
  const includes = await checkIncludes(options);
  const slash = output.lastIndexOf("/");
  const parent = slash === -1 ? "." : slash === 0 ? "/" : output.slice(0, slash);
  await Deno.mkdir(parent, { recursive: true });
  const temp = `${parent}/.${output.slice(slash + 1)}.ferry-tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(temp);
  try {
    const counts = await writeContents(items, temp, includes, options);
    if (await pathExists(output)) {
      throw new ConflictError(`Output folder "${outputDir}" already exists`);
    }
    await Deno.rename(temp, output);
    return { package: outputDir, ...counts, files: await packageFiles(output) };
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Items as record batches in ferry's layout when they come as an IPC stream
 * (another writer's batches are encoded again, every column kept), else as
 * items. With a selection (`itemIds`, `providers`), items are decoded and
 * filtered (a selection reads their properties).
 */
async function openItems(
  items: BuildItems,
  keep: ((item: SelectableItem) => boolean) | undefined,
): Promise<
  | { kind: "items"; batches: AsyncIterable<StacItem[]> | Iterable<StacItem[]> }
  | { kind: "arrow"; schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }
> {
  if (!(items instanceof ReadableStream)) {
    if (!keep) return { kind: "items", batches: items };
    const given = items;
    return {
      kind: "items",
      batches: (async function* () {
        for await (const batch of given) yield batch.filter(keep);
      })(),
    };
  }
  const { schema, batches } = await readIpcBatches(items);
  if (!keep) return { kind: "arrow", ...await itemsRecordBatchesOf(schema, batches) };
  async function* decoded() {
    for await (const batch of batches) {
      const decodedItems = decodeItemsBatch(batch);
      yield keep ? decodedItems.filter(keep) : decodedItems;
    }
  }
  return { kind: "items", batches: decoded() };
}

async function writeContents(
  input: BuildItems,
  dir: string,
  includes: { source: string; name: string }[],
  options: BuildOptions,
): Promise<{ items: number; assets: number }> {
  const keep = itemSelector(options);
  const items = await openItems(input, keep);
  const rowsOptions = { ...options, relativeTo: workingFolder() };
  const itemsFile = await Deno.open(`${dir}/${ITEMS_FILE}`, { write: true, createNew: true });
  const lockFile = await Deno.open(`${dir}/${LOCK_FILE}`, { write: true, createNew: true });
  const probe = {
    ...options,
    probeMetadata: options.assetLock === undefined ? options.probeMetadata ?? true : false,
    // Bytes copied into the package are hashed on the way; no second read.
    checksum: options.includeAssets ? "none" as const : options.checksum,
  };
  const writeItems = (batches: AsyncIterable<unknown>): Promise<{ rows: number }> =>
    items.kind === "arrow"
      ? writeRecordBatchesParquet(
        items.schema,
        batches as AsyncIterable<arrow.RecordBatch>,
        itemsFile.writable,
        // The lock rows of each batch are taken before it is written.
        { releaseBatches: true },
      )
      : writeItemsParquet(batches as AsyncIterable<StacItem[]>, itemsFile.writable);
  let itemsDone: Promise<{ rows: number }>;
  let lockRows: AsyncIterable<LockRow[]>;
  if (options.assetLock !== undefined) {
    const lockPath = options.assetLock;
    if (keep) {
      // As stacpkg: the given lock's rows of the selected items only, known
      // once the items are written.
      const ids = new Set<string>();
      const collectIds = async function* () {
        for await (const batch of items.batches as AsyncIterable<StacItem[]>) {
          for (const item of batch) ids.add(item.id);
          yield batch;
        }
      };
      itemsDone = writeItems(collectIds());
      const selected = async function* () {
        await itemsDone.catch(() => {});
        for await (const rows of readLockFile(lockPath)) {
          yield rows.filter((row) => ids.has(row.item_id));
        }
      };
      lockRows = probeLock(selected(), probe);
    } else {
      itemsDone = writeItems(toAsync<unknown>(items.batches));
      lockRows = probeLock(readLockFile(lockPath), probe);
    }
  } else {
    // One pass over the items: each batch goes to items.parquet and its lock
    // rows into a bounded channel that the lock writer drains.
    const channel = new TransformStream<LockRow[], LockRow[]>({}, { highWaterMark: 1 });
    const rowsWriter = channel.writable.getWriter();
    const lockItemsOf = (batch: unknown) =>
      items.kind === "arrow" ? decodeItemAssets(batch as arrow.RecordBatch) : batch as StacItem[];
    // Record batches are worked on in slices: what is made of each (lock
    // rows, decoded strings) is let go soon, whatever the batch size upstream.
    const slices = items.kind === "arrow"
      ? (batch: unknown) => sliceIpcBatch(batch as arrow.RecordBatch, BUILD_SLICE_ROWS)
      : (batch: unknown) => [batch];
    const tee = async function* () {
      try {
        for await (const whole of items.batches as AsyncIterable<unknown>) {
          for (const batch of slices(whole)) {
            const rows = lockRowsOfItems(lockItemsOf(batch), rowsOptions);
            // A rejected write means the lock side failed; its error is the one to report.
            await rowsWriter.write(rows).catch(() => Promise.reject(LOCK_SIDE_FAILED));
            yield batch;
          }
        }
        await rowsWriter.close().catch(() => Promise.reject(LOCK_SIDE_FAILED));
      } catch (error) {
        await rowsWriter.abort(error).catch(() => {});
        throw error;
      }
    };
    itemsDone = writeItems(tee());
    lockRows = probeLock(channel.readable, probe);
  }
  if (options.includeAssets) lockRows = copyAssets(lockRows, dir, options);
  // Statistics of a lock's columns serve no reader of a package, and cost
  // most of the lock writer's time.
  const lockDone = writeLockParquet(lockRows, lockFile.writable, { statistics: false });
  const [a, b] = await Promise.allSettled([itemsDone, lockDone]);
  if (a.status === "rejected" && !(a.reason === LOCK_SIDE_FAILED && b.status === "rejected")) {
    throw a.reason;
  }
  if (b.status === "rejected") throw b.reason;
  if (a.status === "rejected") throw a.reason;
  for (const include of includes) await copyTree(include.source, `${dir}/${include.name}`);
  return { items: a.value.rows, assets: b.value.rows };
}

const LOCK_SIDE_FAILED = new Error("The asset lock writer failed");

/** Rows of a record batch handled at once by `buildPackage`. */
const BUILD_SLICE_ROWS = 8192;

/**
 * Copies each row's asset into the package through the transfer pipeline:
 * bounded memory, retries, and the bytes checked in flight against the
 * lock's size and checksum (a mismatch fails the build before the package
 * becomes visible).
 */
async function* copyAssets(
  batches: AsyncIterable<LockRow[]>,
  dir: string,
  options: BuildOptions,
): AsyncIterable<LockRow[]> {
  const packageStore = new FileStore({ root: dir });
  const taken = new Set<string>();
  let seen = 0;
  for await (const rows of batches) {
    const first = seen;
    seen += rows.length;
    const where = (i: number) =>
      `row ${first + i + 1} (item "${rows[i]!.item_id}", asset "${rows[i]!.asset_key}")`;
    const tasks: TransferTask<number>[] = rows.map((row, i) => {
      const path = packagedAssetPath(row);
      if (taken.has(path)) {
        throw new ConflictError(
          `${capitalized(where(i))}: "${path}" is already taken by another asset`,
        );
      }
      taken.add(path);
      const source = openLocation(lockRowLocation(row), options.open);
      return {
        source: { store: source.store, key: source.key },
        destination: { store: packageStore, key: path },
        expected: { size: row.size_bytes ?? undefined, sha256: row.checksum ?? undefined },
        ifExists: "overwrite",
        data: i,
      };
    });
    const out = [...rows];
    const pipeline = {
      maxWorkers: options.maxWorkers ?? 8,
      ...options.pipeline,
      retry: options.pipeline?.retry ?? options.open?.retry,
    };
    for await (const result of runTransfers(tasks, pipeline)) {
      const i = result.task.data!;
      if (result.status === "failed") {
        throw new Error(`Cannot copy ${where(i)}: ${result.error?.message}`, {
          cause: result.error,
        });
      }
      const row = rows[i]!;
      out[i] = {
        ...row,
        store_type: "file",
        store_container: null,
        store_endpoint_url: null,
        key: result.task.destination.key,
        size_bytes: result.size ?? row.size_bytes,
        etag: null,
        last_modified: null,
        checksum: options.checksum === "sha256" ? result.checksum ?? null : row.checksum,
      };
    }
    yield out;
  }
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function checkIncludes(options: BuildOptions): Promise<{ source: string; name: string }[]> {
  const reserved = new Set([
    ITEMS_FILE,
    LOCK_FILE,
    ...(options.includeAssets ? [ASSETS_FOLDER] : []),
  ]);
  const out: { source: string; name: string }[] = [];
  for (const source of options.includes ?? []) {
    const trimmed = source.replace(/(.)\/+$/, "$1");
    const name = trimmed.slice(trimmed.lastIndexOf("/") + 1);
    if (!(await pathExists(trimmed))) {
      throw new Deno.errors.NotFound(`Include "${source}" does not exist`);
    }
    if (reserved.has(name) || name === "." || name === ".." || name === "") {
      throw new TypeError(`Include "${source}": the name "${name}" is taken in the package`);
    }
    reserved.add(name);
    out.push({ source: trimmed, name });
  }
  return out;
}

async function copyTree(source: string, destination: string): Promise<void> {
  const info = await Deno.stat(source);
  if (info.isDirectory) {
    await Deno.mkdir(destination);
    for await (const entry of Deno.readDir(source)) {
      await copyTree(`${source}/${entry.name}`, `${destination}/${entry.name}`);
    }
  } else if (info.isFile) {
    await Deno.copyFile(source, destination);
  }
}

async function* toAsync<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  yield* items;
}
