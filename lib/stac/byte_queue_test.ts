import { deepEqual, equal } from "node:assert/strict";
import * as arrow from "apache-arrow";
import { ByteQueue } from "./byte_queue.ts";
import { readIpcBatches, releaseIpcBatch } from "./ipc.ts";

/** `bytes` in chunks of `size`: a byte stream (read into the caller's views), or a default one. */
function streamOf(
  bytes: Uint8Array,
  size: number,
  byteStream: boolean,
): ReadableStream<Uint8Array> {
  let at = 0;
  if (!byteStream) {
    return new ReadableStream({
      pull(controller) {
        if (at >= bytes.length) controller.close();
        else controller.enqueue(bytes.slice(at, at += size));
      },
    });
  }
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (at < bytes.length) return controller.enqueue(bytes.slice(at, at += size));
      controller.close();
      controller.byobRequest?.respond(0);
    },
  });
}

Deno.test("ByteQueue.readInto() reads exact amounts after what was buffered, from any stream", async () => {
  const bytes = Uint8Array.from({ length: 1000 }, (_, k) => k % 251);
  for (const byteStream of [true, false]) {
    for (const size of [1, 7, 300, 5000]) {
      const queue = new ByteQueue(streamOf(bytes, size, byteStream));
      equal(await queue.fill(10), true);
      const head = new Uint8Array(3);
      queue.take(3, head, 0);
      const into = new Uint8Array(600);
      const read = await queue.readInto(500, into, 100);
      deepEqual(read?.subarray(100), bytes.subarray(3, 503), `${byteStream} ${size}`);
      equal(queue.position, 503);
      equal(await queue.readInto(498, new Uint8Array(498), 0), undefined);
    }
  }
});

Deno.test("readIpcBatches() reads the same batches from a byte stream and a default one, and detaches released memory", async () => {
  const table = arrow.tableFromArrays({
    n: Float64Array.from({ length: 5000 }, (_, k) => k),
    s: Array.from({ length: 5000 }, (_, k) => `row ${k}`),
  });
  const ipc = arrow.tableToIPC(
    new arrow.Table([...table.slice(0, 2000).batches, ...table.slice(2000).batches]),
    "stream",
  );
  for (const byteStream of [true, false]) {
    const { batches } = await readIpcBatches(streamOf(ipc, 4096, byteStream));
    const rows: number[] = [];
    for await (const batch of batches) {
      rows.push(...batch.getChild("n")!.toArray());
      equal(releaseIpcBatch(batch), true);
      // Released memory is detached, not left readable.
      equal(batch.getChild("n")!.data[0]!.values.byteLength, 0);
    }
    deepEqual(rows, [...table.getChild("n")!.toArray()]);
  }
});
