import { deepEqual, equal } from "node:assert/strict";
import { NdjsonBlocks } from "./ndjson_blocks.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A stream of `s` in chunks of `size` bytes: a byte stream, or a default one. */
function streamOf(s: string, size: number, bytes: boolean): ReadableStream<Uint8Array> {
  const all = utf8.encode(s);
  let at = 0;
  if (!bytes) {
    return new ReadableStream({
      pull(controller) {
        if (at >= all.length) controller.close();
        else controller.enqueue(all.slice(at, at += size));
      },
    });
  }
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (at < all.length) return controller.enqueue(all.slice(at, at += size));
      controller.close();
      // A read into a view of the reader's own waits for this answer.
      controller.byobRequest?.respond(0);
    },
  });
}

async function blocksOf(stream: ReadableStream<Uint8Array>, size: number): Promise<string[]> {
  const blocks = new NdjsonBlocks(stream, size);
  const out: string[] = [];
  for (let b = await blocks.next(); b; b = await blocks.next()) {
    out.push(text.decode(b));
    blocks.recycle(b.buffer);
  }
  return out;
}

Deno.test("NdjsonBlocks.next() gives whole lines, longer ones in bigger blocks, from any stream", async () => {
  const lines = ["a", "bbbbbbbbbbbbbbbbbbbbbbbbbb", "", "cc", "dddddd", "e"];
  const input = lines.join("\n");
  for (const bytes of [true, false]) {
    for (const chunk of [1, 3, 7, 1000]) {
      for (const size of [1, 4, 8, 64, 4096]) {
        const blocks = await blocksOf(streamOf(input, chunk, bytes), size);
        equal(blocks.join(""), input, `${bytes} ${chunk} ${size}`);
        for (const [k, b] of blocks.entries()) {
          if (k < blocks.length - 1) equal(b.endsWith("\n"), true);
          // A block holds more than `size` bytes only when a line of it is longer.
          if (b.length > size) equal(b.split("\n").some((l) => l.length >= size), true);
        }
      }
    }
  }
  deepEqual(await blocksOf(streamOf("x\n", 1, true), 100), ["x\n"]);
  deepEqual(await blocksOf(streamOf("", 1, true), 100), []);
  deepEqual(await blocksOf(new Blob(["a\nb\n", "c"]).stream(), 2), ["a\n", "b\n", "c"]);
});

Deno.test("NdjsonBlocks.cancel() cancels the stream", async () => {
  let cancelled: unknown;
  const stream = new ReadableStream<Uint8Array>({
    type: "bytes",
    pull: (c) => c.enqueue(utf8.encode("line\n")),
    cancel: (reason) => {
      cancelled = reason;
    },
  });
  const blocks = new NdjsonBlocks(stream, 16);
  equal(text.decode(await blocks.next()), "line\nline\nline\n");
  await blocks.cancel("stop");
  equal(cancelled, "stop");
  equal(await blocks.next(), undefined);
});
