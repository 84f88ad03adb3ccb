/**
 * Benchmark data shared by the benches.
 *
 * @module
 */

const MIB = 2 ** 20;

/** Writes `bytes` of random data to `path` unless it already has that size. */
export async function randomFile(path: string, bytes: number): Promise<void> {
  try {
    if ((await Deno.stat(path)).size === bytes) return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const block = new Uint8Array(8 * MIB);
    for (let done = 0; done < bytes; done += block.byteLength) {
      for (let i = 0; i < block.byteLength; i += 65536) {
        crypto.getRandomValues(block.subarray(i, i + 65536));
      }
      const piece = block.subarray(0, Math.min(block.byteLength, bytes - done));
      for (let off = 0; off < piece.byteLength;) off += await file.write(piece.subarray(off));
    }
  } finally {
    file.close();
  }
}
