import { createHash } from "node:crypto";
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { FileStore } from "../stores/file.ts";
import { MemoryStore } from "../stores/memory.ts";
import { getBytes, putBytes } from "../stores/ext.ts";
import { MemoryBudget } from "./memory_budget.ts";
import { type PipelineEvent, runTransfers } from "./engine.ts";
import type { TransferResult, TransferTask } from "./transfer.ts";
import { CountingStore, GeneratedStore, SlowSinkStore } from "./_testing.ts";

async function collect<T>(results: AsyncIterable<TransferResult<T>>): Promise<TransferResult<T>[]> {
  const out: TransferResult<T>[] = [];
  for await (const r of results) out.push(r);
  return out;
}

Deno.test("runTransfers() throws RangeError at once for a memory limit below one chunk", () => {
  throws(
    () => runTransfers([], { chunkSizeBytes: 1024, memoryLimitBytes: 1023 }),
    /memoryLimitBytes 1023: below one chunk/,
  );
  throws(() => runTransfers([], { maxWorkers: 0 }), /maxWorkers 0/);
  throws(() => runTransfers([], { putMaxConcurrency: -1 }), /putMaxConcurrency -1/);
  throws(() => runTransfers([], { chunkSizeBytes: 0 }), /chunkSizeBytes 0/);
});

Deno.test("runTransfers() never holds more than the memory limit across workers", async () => {
  const root = await Deno.makeTempDir();
  try {
    const source = new FileStore({ root: `${root}/s` });
    const destination = new FileStore({ root: `${root}/d` });
    const sizes = [0, 1, 999, 50_000, 200_000, 333_333, 1_000_000, 4096, 70_000, 500_001];
    const digests: string[] = [];
    for (const [i, size] of sizes.entries()) {
      const bytes = new Uint8Array(size).map((_, j) => (i + j) & 0xff);
      digests.push("1220" + createHash("sha256").update(bytes).digest("hex"));
      await putBytes(source, `o/${i}`, bytes);
    }
    const limit = 100_000;
    let max = 0;
    let changes = 0;
    const budget = new MemoryBudget(limit, {
      onChange: (c) => {
        changes++;
        max = Math.max(max, c.inUseBytes);
      },
    });
    const tasks: TransferTask<number>[] = sizes.map((_, i) => ({
      source: { store: source, key: `o/${i}` },
      destination: { store: destination, key: `copy/${i}` },
      data: i,
    }));
    const results = await collect(
      runTransfers(tasks, { maxWorkers: 4, chunkSizeBytes: 16_384, budget }),
    );
    equal(results.length, sizes.length);
    for (const r of results) {
      equal(r.status, "copied", String(r.error));
      equal(r.checksum, digests[r.task.data!]);
      equal(r.size, sizes[r.task.data!]);
    }
    ok(changes >= 2 * sizes.length);
    ok(max <= limit, `peak ${max} > ${limit}`);
    ok(max > 16_384, "several objects were in flight at once");
    equal(budget.inUseBytes, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("runTransfers() moves an object larger than the limit in smaller chunks", async () => {
  const source = new GeneratedStore(3_000_000, 50_000);
  const destination = new MemoryStore();
  const budget = new MemoryBudget(100_000);
  const [result] = await collect(runTransfers([
    { source: { store: source, key: "big" }, destination: { store: destination, key: "big" } },
  ], { chunkSizeBytes: 100_000, budget, md5: false }));
  equal(result?.status, "copied", String(result?.error));
  equal((await getBytes(destination, "big")).byteLength, 3_000_000);
  ok(budget.peakBytes <= 100_000);
});

Deno.test("runTransfers() passes cancellation back to the source", async () => {
  const source = new GeneratedStore(50_000_000, 10_000);
  const controller = new AbortController();
  const sink = new SlowSinkStore(2);
  const budget = new MemoryBudget(1 << 20);
  const run = collect(runTransfers([
    { source: { store: source, key: "x" }, destination: { store: sink, key: "x" } },
  ], { signal: controller.signal, chunkSizeBytes: 64 * 1024, budget }));
  while (sink.received < 200_000) await new Promise((r) => setTimeout(r, 5));
  controller.abort(new Error("user stop"));
  await rejects(run, /user stop/);
  await new Promise((r) => setTimeout(r, 20));
  equal(source.cancelled, true);
  ok(sink.received < 50_000_000);
  equal(budget.inUseBytes, 0);
});

Deno.test("runTransfers() cancels objects in flight when the consumer stops early", async () => {
  const sources = [new GeneratedStore(50_000_000, 10_000), new GeneratedStore(100, 10)];
  const budget = new MemoryBudget(1 << 20);
  const tasks = sources.map((store, i) => ({
    source: { store, key: "x" },
    destination: { store: new SlowSinkStore(i === 0 ? 2 : 0), key: "x" },
  }));
  for await (const r of runTransfers(tasks, { maxWorkers: 2, chunkSizeBytes: 64 * 1024, budget })) {
    equal(r.status, "copied", String(r.error));
    break;
  }
  equal(sources[0]!.cancelled, true);
  equal(budget.inUseBytes, 0);
});

Deno.test("runTransfers() skips what a previous run copied and reports events", async () => {
  const source = new MemoryStore();
  const destination = new CountingStore(new MemoryStore());
  for (let i = 0; i < 6; i++) await putBytes(source, `k${i}`, new Uint8Array(1000 + i).fill(i));
  const tasks = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      source: { store: source, key: `k${i}` },
      destination: { store: destination, key: `k${i}` },
    }));
  await collect(runTransfers(tasks(3), {}));
  equal(destination.calls.put, 3);
  const events: PipelineEvent["type"][] = [];
  const results = await collect(runTransfers(tasks(6), { onEvent: (e) => events.push(e.type) }));
  equal(destination.calls.put, 6);
  deepEqual(results.map((r) => r.status).sort(), [
    "copied",
    "copied",
    "copied",
    "skipped",
    "skipped",
    "skipped",
  ]);
  equal(events.filter((e) => e === "start").length, 6);
  equal(events.filter((e) => e === "done").length, 6);
  ok(events.includes("bytes"));
});

Deno.test("runTransfers() reports failures as results and goes on", async () => {
  const source = new MemoryStore();
  await putBytes(source, "ok", new Uint8Array(10));
  const destination = new MemoryStore();
  const results = await collect(runTransfers(["missing", "ok"].map((key) => ({
    source: { store: source, key },
    destination: { store: destination, key },
  }))));
  deepEqual(results.map((r) => `${r.task.source.key}:${r.status}`).sort(), [
    "missing:failed",
    "ok:copied",
  ]);
});

Deno.test("runTransfers() fails an object whose destination buffers more than the limit", async () => {
  const source = new MemoryStore();
  await putBytes(source, "k", new Uint8Array(10));
  throws(
    () => runTransfers([], { memoryLimitBytes: 100, chunkSizeBytes: 10, putBufferBytes: 100 }),
    RangeError,
  );
  const [r] = await collect(runTransfers([
    { source: { store: source, key: "k" }, destination: { store: new MemoryStore(), key: "k" } },
  ], { memoryLimitBytes: 100, chunkSizeBytes: 10, putBufferBytes: () => 200 }));
  equal(r?.status, "failed");
  ok(r?.error instanceof RangeError);
});
