/**
 * The worker behind `GzipStream`: compresses the chunks it is sent, in
 * order, and sends the compressed bytes back as they come, acknowledging
 * each input chunk once the compressor has taken it.
 *
 * Messages in: `{ chunk: Uint8Array }` (moved), then `{ end: true }`.
 * Messages out: `{ out: Uint8Array }` (moved), `{ taken: number }`,
 * `{ done: true }`, or `{ failure: string }`.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

const compressor = new CompressionStream("gzip");
const writer = compressor.writable.getWriter();

const drained = (async () => {
  for await (const out of compressor.readable as unknown as AsyncIterable<Uint8Array>) {
    const copy = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength
      ? out
      : out.slice();
    self.postMessage({ out: copy }, [copy.buffer as ArrayBuffer]);
  }
})();

self.onmessage = async (
  event: MessageEvent<{ chunk?: Uint8Array<ArrayBuffer>; end?: boolean }>,
) => {
  try {
    if (event.data.chunk) {
      const size = event.data.chunk.byteLength;
      await writer.write(event.data.chunk);
      self.postMessage({ taken: size });
    } else if (event.data.end) {
      await writer.close();
      await drained;
      self.postMessage({ done: true });
    }
  } catch (error) {
    self.postMessage({ failure: error instanceof Error ? error.message : String(error) });
  }
};
