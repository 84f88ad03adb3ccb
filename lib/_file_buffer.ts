import type { AsyncBuffer } from "hyparquet";

/**
 * An open file as hyparquet's random-access buffer: each `slice` reads just
 * those bytes (serialised, since reads share the file's cursor), so a
 * Parquet footer or one column chunk is read without loading the file.
 *
 * @param file An open file; the caller closes it.
 * @returns The buffer.
 */
export async function fileAsyncBuffer(file: Deno.FsFile): Promise<AsyncBuffer> {
  const size = (await file.stat()).size;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    byteLength: size,
    slice(start: number, end = size) {
      const read = queue.then(async () => {
        const out = new Uint8Array(Math.max(0, Math.min(end, size) - start));
        await file.seek(start, Deno.SeekMode.Start);
        let offset = 0;
        while (offset < out.length) {
          const n = await file.read(out.subarray(offset));
          if (n === null) break;
          offset += n;
        }
        return out.buffer;
      });
      queue = read.catch(() => {});
      return read;
    },
  };
}
