import { deepEqual, equal, throws } from "node:assert/strict";
import { runStoreConformance } from "../../tests/store_conformance.ts";
import { getBytes, putBytes } from "./ext.ts";
import { LimitStore, Semaphore } from "./limit_store.ts";
import { MemoryStore } from "./memory.ts";
import { MetricsStore } from "./metrics_store.ts";
import { RetryStore, withRetry } from "./retry_store.ts";
import { NotFoundError, TransientError } from "./errors.ts";
import { isBulkDeleter, putCheckOf } from "./store.ts";
import { FileStore } from "./file.ts";

runStoreConformance({
  name: "limit(memory)",
  make: () => new LimitStore(new MemoryStore(), { maxConcurrency: 2 }),
});
runStoreConformance({ name: "metrics(memory)", make: () => new MetricsStore(new MemoryStore()) });

Deno.test("LimitStore holds a get's slot until its body is read to the end", async () => {
  const store = new LimitStore(new MemoryStore(), { maxConcurrency: 1 });
  await putBytes(store, "a", new Uint8Array(10));
  const body = await store.get("a");
  equal(store.semaphore.inUse, 1);
  await new Response(body).arrayBuffer();
  equal(store.semaphore.inUse, 0);
  const cancelled = await store.get("a");
  await cancelled.cancel();
  equal(store.semaphore.inUse, 0);
  equal(String(store), "LimitStore(1, MemoryStore())");
});

Deno.test("Semaphore rejects a bad limit with RangeError", () => {
  throws(() => new Semaphore(0), RangeError);
  throws(() => new Semaphore(1.5), RangeError);
});

Deno.test("MetricsStore counts calls and bytes", async () => {
  const store = new MetricsStore(new MemoryStore());
  await putBytes(store, "a", new Uint8Array(1000));
  await getBytes(store, "a");
  deepEqual(
    {
      puts: store.metrics.puts,
      gets: store.metrics.gets,
      r: store.metrics.bytesRead,
      w: store.metrics.bytesWritten,
    },
    { puts: 1, gets: 1, r: 1000, w: 1000 },
  );
});

Deno.test("wrappers forward optional abilities such as bulk delete", () => {
  const wrapped = new RetryStore(new LimitStore(new MetricsStore(new MemoryStore())));
  equal(isBulkDeleter(wrapped), true);
  equal(putCheckOf(wrapped), "md5-etag");
  equal(putCheckOf(new RetryStore(new FileStore({ root: "/nonexistent" }))), "none");
});

Deno.test("withRetry() retries transient errors only and records the attempts", async () => {
  let calls = 0;
  const value = await withRetry(() => {
    calls++;
    if (calls < 3) throw new TransientError("busy");
    return Promise.resolve("done");
  }, { baseDelayMs: 1 });
  equal(value, "done");
  equal(calls, 3);
  let notFoundCalls = 0;
  const error: NotFoundError = await withRetry<never>(() => {
    notFoundCalls++;
    throw new NotFoundError("gone");
  }, { baseDelayMs: 1 }).catch((e) => e as NotFoundError);
  equal(notFoundCalls, 1);
  equal(error.attempts, 1);
  const exhausted: TransientError = await withRetry<never>(() => {
    throw new TransientError("still busy");
  }, { baseDelayMs: 1, maxAttempts: 2 }).catch((e) => e as TransientError);
  equal(exhausted.attempts, 2);
});
