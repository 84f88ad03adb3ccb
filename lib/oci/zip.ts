/**
 * The deterministic ZIP of a package folder, byte for byte what Python's
 * `zipfile` writes for stacpkg (files only, sorted, 1980-01-01 00:00,
 * deflate level 6 with zlib's exact output, the `st_mode` in the external
 * attributes, no extra fields, no data descriptors), and its extraction.
 *
 * The container is `@zip.js/zip.js`; the deflate codec is `pako` 2.1, a
 * port of zlib 1.2 whose output equals CPython's `zlib`. Entries are
 * compressed into a temporary file each (the local header carries the
 * compressed size, so it is written after the entry), never whole in memory.
 *
 * @module
 */
import { configure, Reader, type TempStream, ZipReader, ZipWriter } from "@zip.js/zip.js";
import pako from "pako";
import { checkSafePath, type ZipSourceFile } from "./artifact.ts";

/** zlib's raw deflate (or gzip, which zip.js uses to learn the CRC-32), through pako. */
class ZlibCompressionStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(format: string, options: { level?: number } = {}) {
    // deno-lint-ignore no-explicit-any
    let deflate: any;
    const check = () => {
      if (deflate.err) throw new Error(`Deflate failed: ${deflate.msg}`);
    };
    super({
      start(controller) {
        deflate = new pako.Deflate({
          raw: format === "deflate-raw",
          gzip: format === "gzip",
          level: options.level ?? 6,
        });
        deflate.onData = (chunk: Uint8Array) => controller.enqueue(chunk);
      },
      transform(chunk) {
        deflate.push(chunk, false);
        check();
      },
      flush() {
        deflate.push(new Uint8Array(0), true);
        check();
      },
    });
  }
}

// zip.js reads its codec from the global configuration only.
configure({ CompressionStream: ZlibCompressionStream, useWebWorkers: false });

const DOS_EPOCH = new Date(1980, 0, 1, 0, 0, 0); // local time: zip.js writes local DOS time
const VERSION_MADE_BY_UNIX_2_0 = (3 << 8) | 20;

/** An entry's compressed bytes, spilled to a temporary file until its header is written. */
async function fileTempStream(dir: string): Promise<TempStream> {
  const path = await Deno.makeTempFile({ dir, prefix: "zip-entry-" });
  const file = await Deno.open(path, { write: true, truncate: true });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      for (let at = 0; at < chunk.byteLength;) at += await file.write(chunk.subarray(at));
    },
    close() {
      file.close();
    },
    abort() {
      file.close();
    },
  });
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      reader ??= (await Deno.open(path)).readable.getReader();
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await reader?.cancel(reason);
    },
  }, { highWaterMark: 0 }); // nothing to read before the writable side has closed
  return { writable, readable, dispose: () => Deno.remove(path).catch(() => {}) };
}

/**
 * Writes the deterministic ZIP of `files` to `zipPath` (see the module doc):
 * the same files with the same modes give the same bytes, every time.
 *
 * @example Same files, same bytes
 * ```ts
 * import { writeDeterministicZip } from "./zip.ts";
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello\n");
 * const files = [{ name: "docs/a.txt", path: `${dir}/a.txt`, mode: 0o100644 }];
 * await writeDeterministicZip(files, `${dir}/1.zip`, dir);
 * await writeDeterministicZip(files, `${dir}/2.zip`, dir);
 * equal(
 *   (await Deno.readFile(`${dir}/1.zip`)).join(),
 *   (await Deno.readFile(`${dir}/2.zip`)).join(),
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param files The entries, in order: names relative to the package root.
 * @param zipPath The ZIP file to create (replaced if it exists).
 * @param tempDir Where entries wait for their header.
 */
export async function writeDeterministicZip(
  files: readonly ZipSourceFile[],
  zipPath: string,
  tempDir: string,
): Promise<void> {
  const out = await Deno.open(zipPath, { write: true, create: true, truncate: true });
  const writer = new ZipWriter(out.writable, {
    useWebWorkers: false,
    useCompressionStream: true,
    level: 6,
    dataDescriptor: false,
    extendedTimestamp: false,
    versionMadeBy: VERSION_MADE_BY_UNIX_2_0,
    keepOrder: true,
    lastModDate: DOS_EPOCH,
    createTempStream: () => fileTempStream(tempDir),
  });
  try {
    for (const file of files) {
      const source = await Deno.open(file.path);
      const size = (await source.stat()).size;
      await writer.add(file.name, source.readable, {
        externalFileAttributes: ((file.mode & 0xffff) << 16) >>> 0,
        uncompressedSize: size,
      });
    }
  } catch (error) {
    await writer.close().catch(() => {});
    throw error;
  }
  await writer.close();
}

/** zip.js reads a file on disk by ranges. */
class FileRangeReader extends Reader<string> {
  readonly #path: string;
  #file: Deno.FsFile | undefined;

  constructor(path: string) {
    super(path);
    this.#path = path;
  }

  override async init(): Promise<void> {
    this.#file = await Deno.open(this.#path);
    this.size = (await this.#file.stat()).size;
  }

  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    const file = this.#file!;
    const out = new Uint8Array(Math.max(0, Math.min(length, this.size - index)));
    await file.seek(index, Deno.SeekMode.Start);
    let at = 0;
    while (at < out.byteLength) {
      const n = await file.read(out.subarray(at));
      if (n === null) break;
      at += n;
    }
    return at === out.byteLength ? out : out.subarray(0, at);
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/** One entry of a ZIP, before its bytes are read. */
export interface ZipEntryInfo {
  /** The entry name. */
  name: string;
  /** Whether it is a folder entry. */
  directory: boolean;
  /** The Unix mode from the external attributes (0 when the ZIP has none). */
  mode: number;
  /** Writes the entry's bytes into `writable` (CRC-32 checked), closing it. */
  writeTo(writable: WritableStream<Uint8Array>): Promise<void>;
}

/**
 * Reads the entries of a ZIP file on disk one by one; each entry's bytes
 * stream out only when asked for, with their CRC-32 checked.
 *
 * @example Round trip
 * ```ts
 * import { readZipEntries, writeDeterministicZip } from "./zip.ts";
 * import { deepEqual } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello\n");
 * await writeDeterministicZip([{ name: "d/a.txt", path: `${dir}/a.txt`, mode: 0o100644 }], `${dir}/x.zip`, dir);
 * const names: string[] = [];
 * for await (const entry of readZipEntries(`${dir}/x.zip`)) {
 *   names.push(entry.name);
 *   await entry.writeTo(new WritableStream());
 * }
 * deepEqual(names, ["d/a.txt"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param zipPath The ZIP file.
 * @param what Names the ZIP in errors. @default the path, quoted
 * @returns The entries, in the central directory's order.
 * @throws {SyntaxError} When the file is not a readable ZIP, or an entry name is unsafe (`..`, absolute).
 */
export async function* readZipEntries(
  zipPath: string,
  what: string = `"${zipPath}"`,
): AsyncGenerator<ZipEntryInfo> {
  const source = new FileRangeReader(zipPath);
  const reader = new ZipReader(source, { useWebWorkers: false, checkSignature: true });
  try {
    let entries;
    try {
      entries = reader.getEntriesGenerator();
    } catch (error) {
      throw new SyntaxError(`Invalid ZIP ${what}: ${(error as Error).message}`, { cause: error });
    }
    while (true) {
      let next;
      try {
        next = await entries.next();
      } catch (error) {
        const unsafe = (error as { filename?: unknown }).filename;
        if (typeof unsafe === "string") checkSafePath(unsafe, `ZIP entry in ${what}`);
        throw new SyntaxError(`Invalid ZIP ${what}: ${(error as Error).message}`, { cause: error });
      }
      if (next.done) break;
      const entry = next.value;
      const attributes = entry.externalFileAttributes ?? 0;
      yield {
        name: entry.filename,
        directory: entry.directory,
        mode: (attributes >>> 16) & 0xffff,
        writeTo: async (writable) => {
          if (entry.directory) throw new TypeError(`ZIP entry "${entry.filename}" is a folder`);
          await entry.getData(writable, { useWebWorkers: false, checkSignature: true });
        },
      };
    }
  } finally {
    await reader.close().catch(() => {});
    source.close();
  }
}
