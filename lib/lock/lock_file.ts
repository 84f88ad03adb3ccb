/**
 * Reading an asset lock named by a path, whatever the path is: a Parquet
 * file or an Arrow IPC stream (what `stacpkg asset-lock from-parquet` and
 * `ferry asset-lock from-parquet` write), told apart by their first bytes
 * (`PAR1`; the IPC continuation marker `0xFFFFFFFF`), in a regular file, a
 * FIFO or a `/dev/fd/N` of a shell's process substitution
 * (`--asset-lock <(stacpkg asset-lock from-parquet lock.parquet)`).
 *
 * A pipe cannot seek: an IPC stream is read as it arrives; Parquet, whose
 * footer comes last, is first spooled to a temporary file (removed after),
 * so memory stays bounded whatever the lock's size.
 *
 * @module
 */
import type { LockRow } from "./schema.ts";
import { concatBytes } from "../bytes.ts";

/** What a lock's first bytes say it is. */
export type LockFileFormat = "parquet" | "ipc";

/** Bytes read to tell the formats apart. */
const MAGIC_BYTES = 4;

/**
 * The format of a lock from its first bytes.
 *
 * @example
 * ```ts
 * import { lockFileFormat } from "./lock_file.ts";
 * import { equal } from "node:assert/strict";
 * equal(lockFileFormat(new TextEncoder().encode("PAR1")), "parquet");
 * equal(lockFileFormat(new Uint8Array([0xff, 0xff, 0xff, 0xff])), "ipc");
 * equal(lockFileFormat(new TextEncoder().encode("item")), undefined);
 * ```
 *
 * @param head At least the first 4 bytes.
 * @returns The format, or undefined when it is neither.
 */
export function lockFileFormat(head: Uint8Array): LockFileFormat | undefined {
  if (head.length < MAGIC_BYTES) return undefined;
  if (head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) {
    return "parquet";
  }
  if (head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return "ipc";
  return undefined;
}

function unknownFormat(path: string, head: Uint8Array): SyntaxError {
  const hex = [...head.subarray(0, MAGIC_BYTES)].map((b) => b.toString(16).padStart(2, "0"))
    .join(" ");
  return new SyntaxError(
    `Invalid asset lock "${path}": not a Parquet file nor an Arrow IPC stream (${
      head.length === 0 ? "it is empty" : `it starts with bytes ${hex}`
    })`,
  );
}

/**
 * Reads the lock at `path`: Parquet or an Arrow IPC stream, from a regular
 * file, a FIFO or `/dev/fd/N`. Rows come in batches (row groups or record
 * batches); errors name the path.
 *
 * @example A lock written as Parquet and read back
 * ```ts
 * import { readLockFile } from "./lock_file.ts";
 * import { writeLockParquetFile } from "./parquet.ts";
 * import { equal } from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".parquet" });
 * const row = {
 *   item_id: "a", asset_key: "data", store_type: "file" as const, store_container: null,
 *   store_endpoint_url: null, key: "/x.tif", size_bytes: 5, etag: null,
 *   last_modified: null, checksum: null,
 * };
 * await writeLockParquetFile([[row]], path);
 * let n = 0;
 * for await (const rows of readLockFile(path)) n += rows.length;
 * equal(n, 1);
 * await Deno.remove(path);
 * ```
 *
 * @param path The lock's path.
 * @returns Batches of rows.
 * @throws {Deno.errors.NotFound} When nothing is at `path`.
 * @throws {TypeError} When `path` is a folder.
 * @throws {SyntaxError} When the bytes are neither format, or a bad lock of either.
 */
export async function* readLockFile(path: string): AsyncIterable<LockRow[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read asset lock "${path}": no such file`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new TypeError(`Invalid asset lock "${path}": it is a folder, not a file`);
    }
    throw error;
  }
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    const info = await file.stat();
    if (info.isDirectory) {
      throw new TypeError(`Invalid asset lock "${path}": it is a folder, not a file`);
    }
    // Read as a stream in every case: a pipe cannot seek, and the first bytes are kept.
    reader = file.readable.getReader();
    const first: Uint8Array[] = [];
    let got = 0;
    while (got < MAGIC_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      first.push(value);
      got += value.byteLength;
    }
    const head = concatBytes(first);
    const format = lockFileFormat(head);
    if (format === undefined) throw unknownFormat(path, head);
    if (format === "parquet" && info.isFile) {
      // A regular file is read where it is, row group by row group.
      await reader.cancel();
      reader = undefined;
      const { readLockParquet } = await import("./parquet.ts");
      yield* readLockParquet(path);
      return;
    }
    const source = reader;
    const whole = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of first) controller.enqueue(chunk);
      },
      async pull(controller) {
        const { done, value } = await source.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    }, { highWaterMark: 0 });
    if (format === "ipc") yield* ipcRows(whole, path);
    else yield* spooledParquetRows(whole, path);
  } finally {
    // Closes the file, also when the rows were not all read.
    if (reader) await reader.cancel().catch(() => {});
    else if (file) {
      try {
        file.close();
      } catch {
        // Closed already by its stream.
      }
    }
  }
}

async function* ipcRows(stream: ReadableStream<Uint8Array>, path: string) {
  const { lockRowsFromIpc } = await import("./arrow.ts");
  yield* lockRowsFromIpc(stream, `asset lock "${path}"`);
}

/** Parquet from a pipe: copied to a temporary file first (its footer comes last). */
async function* spooledParquetRows(
  stream: ReadableStream<Uint8Array>,
  path: string,
): AsyncIterable<LockRow[]> {
  const temp = await Deno.makeTempFile({ prefix: "ferry-lock-", suffix: ".parquet" });
  try {
    const out = await Deno.open(temp, { write: true, truncate: true });
    await stream.pipeTo(out.writable);
    const { readLockParquet } = await import("./parquet.ts");
    yield* readLockParquet(temp, { name: path });
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

/**
 * Every row of the lock at `path` (Parquet or IPC), collected. For locks
 * that are indexed whole (enrich, alternates).
 *
 * @param path The lock's path.
 * @returns The rows.
 * @throws {Deno.errors.NotFound} When nothing is at `path`.
 * @throws {SyntaxError} When the bytes are neither format, or a bad lock of either.
 */
export async function readLockFileRows(path: string): Promise<LockRow[]> {
  const out: LockRow[] = [];
  for await (const rows of readLockFile(path)) out.push(...rows);
  return out;
}
