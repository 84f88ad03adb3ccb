import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { ChunkStream } from "./chunk_stream.ts";
import { MemoryBudget } from "./memory_budget.ts";
import { GeneratedStore } from "./_testing.ts";

Deno.test("ChunkStream re-chunks pieces of any size into chunk-size parts", async () => {
  const budget = new MemoryBudget(100);
  const chunks = new ChunkStream({ budget, chunkSizeBytes: 10 });
  const pieces = [3, 25, 1, 0, 12].map((n, i) => new Uint8Array(n).fill(i));
  const out: Uint8Array[] = [];
  for await (const c of new Blob(pieces).stream().pipeThrough(chunks)) out.push(c);
  chunks.releaseAll();
  deepEqual(out.map((c) => c.byteLength), [10, 10, 10, 10, 1]);
  equal(budget.inUseBytes, 0);
});

Deno.test("ChunkStream passes a piece that is exactly the next chunk on without copying it", async () => {
  const budget = new MemoryBudget(100);
  const chunks = new ChunkStream({ budget, chunkSizeBytes: 10, totalBytes: 27 });
  const pieces = [
    new Uint8Array(10).fill(1),
    new Uint8Array(3).fill(2),
    new Uint8Array(7).fill(3),
    new Uint8Array(7).fill(4),
  ];
  const source = ReadableStream.from(pieces);
  const out: Uint8Array[] = [];
  for await (const c of source.pipeThrough(chunks)) out.push(c);
  chunks.releaseAll();
  equal(out[0], pieces[0], "a whole-chunk piece is handed over as it is");
  deepEqual(out.map((c) => [...c]), [
    Array(10).fill(1),
    [...Array(3).fill(2), ...Array(7).fill(3)],
    Array(7).fill(4),
  ]);
  equal(out[2]!.byteLength, 7, "the last piece is the 7-byte remainder, passed on as it is");
  equal(out[2], pieces[3]);
  equal(budget.inUseBytes, 0);
});

Deno.test("ChunkStream throws RangeError for a bad chunk size", () => {
  const budget = new MemoryBudget(10);
  throws(() => new ChunkStream({ budget, chunkSizeBytes: 0 }), /Invalid chunk size 0/);
  throws(() => new ChunkStream({ budget, chunkSizeBytes: 1, consumerHoldsChunks: -1 }), RangeError);
});

Deno.test("ChunkStream never charges more than holds + 2 chunks, and a slow consumer throttles the source", async () => {
  let max = 0;
  const budget = new MemoryBudget(1 << 20, {
    onChange: (c) => void (max = Math.max(max, c.inUseBytes)),
  });
  const source = new GeneratedStore(200_000, 7_000);
  const chunks = new ChunkStream({ budget, chunkSizeBytes: 4_096, consumerHoldsChunks: 2 });
  let received = 0;
  for await (const c of (await source.get()).pipeThrough(chunks)) {
    received += c.byteLength;
    ok(chunks.heldBytes <= 4 * 4_096, `held ${chunks.heldBytes}`);
    await new Promise((r) => setTimeout(r, 0));
  }
  chunks.releaseAll();
  equal(received, 200_000);
  ok(max <= 4 * 4_096, `max ${max}`);
  equal(budget.inUseBytes, 0);
});

Deno.test("ChunkStream waits for budget another stream holds", async () => {
  const budget = new MemoryBudget(8);
  await budget.acquire(8);
  const chunks = new ChunkStream({ budget, chunkSizeBytes: 8 });
  const reader = new Blob([new Uint8Array(8)]).stream().pipeThrough(chunks).getReader();
  let got = false;
  const read = reader.read().then(() => void (got = true));
  await new Promise((r) => setTimeout(r, 10));
  equal(got, false);
  budget.release(8);
  await read;
  equal(got, true);
  await reader.cancel();
  chunks.releaseAll();
  equal(budget.inUseBytes, 0);
});

Deno.test("ChunkStream passes a cancel back to the source", async () => {
  const budget = new MemoryBudget(1 << 20);
  const source = new GeneratedStore(10_000_000, 1_000);
  const chunks = new ChunkStream({ budget, chunkSizeBytes: 4_000 });
  const reader = (await source.get()).pipeThrough(chunks).getReader();
  await reader.read();
  await reader.cancel(new Error("consumer gone"));
  await new Promise((r) => setTimeout(r, 10));
  equal(source.cancelled, true);
  ok(source.pulls < 20, `pulls ${source.pulls}`);
  equal(budget.inUseBytes, 0);
});

Deno.test("ChunkStream passes an abort signal back to the source and errors the consumer", async () => {
  const budget = new MemoryBudget(1 << 20);
  const source = new GeneratedStore(10_000_000, 1_000);
  const controller = new AbortController();
  const chunks = new ChunkStream({ budget, chunkSizeBytes: 4_000, signal: controller.signal });
  const reader = (await source.get()).pipeThrough(chunks).getReader();
  await reader.read();
  controller.abort(new Error("stop now"));
  await rejects(reader.read(), /stop now/);
  await new Promise((r) => setTimeout(r, 10));
  equal(source.cancelled, true);
  chunks.releaseAll();
  equal(budget.inUseBytes, 0);
});

Deno.test("ChunkStream charges only what is left when the total size is known", async () => {
  const seen: number[] = [];
  const budget = new MemoryBudget(100, {
    onChange: (c) => c.kind === "acquire" && seen.push(c.bytes),
  });
  const chunks = new ChunkStream({ budget, chunkSizeBytes: 10, totalBytes: 23 });
  for await (const _ of new Blob([new Uint8Array(23)]).stream().pipeThrough(chunks)) { /* drain */ }
  chunks.releaseAll();
  deepEqual(seen, [10, 10, 3]);
});
