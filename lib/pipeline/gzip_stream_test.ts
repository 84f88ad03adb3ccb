import { deepEqual, equal, rejects } from "node:assert/strict";
import { GzipStream } from "./gzip_stream.ts";

/** Random and repetitive bytes, handed over in pieces of odd sizes. */
function pieces(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  let n = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(total - sent, 1 + ((n++ * 7919) % 300_000));
      const piece = new Uint8Array(size);
      if (n % 2) crypto.getRandomValues(piece.subarray(0, Math.min(size, 65536)));
      else piece.fill(n & 0xff);
      sent += size;
      controller.enqueue(piece);
    },
  });
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("GzipStream compresses on a worker to the same bytes as CompressionStream", async () => {
  const [a, b] = pieces(12 * 1024 * 1024).tee();
  const viaWorker = await bytesOf(a.pipeThrough(new GzipStream({ maxInFlightBytes: 1 << 20 })));
  const inThread = await bytesOf(b.pipeThrough(new GzipStream({ inThread: true })));
  deepEqual(viaWorker, inThread);
  const plain = await bytesOf(
    new Response(viaWorker).body!.pipeThrough(new DecompressionStream("gzip")),
  );
  equal(plain.byteLength, 12 * 1024 * 1024);
});

Deno.test("GzipStream passes a failure of its source on, and an empty input is a valid gzip", async () => {
  const failing = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(1000));
      controller.error(new Error("source broke"));
    },
  });
  await rejects(bytesOf(failing.pipeThrough(new GzipStream())), /source broke/);
  const empty = await bytesOf(new Blob([]).stream().pipeThrough(new GzipStream()));
  const back = await bytesOf(
    new Response(empty).body!.pipeThrough(new DecompressionStream("gzip")),
  );
  equal(back.byteLength, 0);
});
