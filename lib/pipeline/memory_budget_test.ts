import { equal, rejects, throws } from "node:assert/strict";
import { checkMemoryLimit, MemoryBudget } from "./memory_budget.ts";

Deno.test("MemoryBudget() throws RangeError for a limit below one chunk", () => {
  throws(() => new MemoryBudget(100, { minRequestBytes: 101 }), /below one chunk of 101 bytes/);
  throws(() => new MemoryBudget(0), RangeError);
  throws(() => new MemoryBudget(1.5), RangeError);
  throws(() => new MemoryBudget(-1), RangeError);
});

Deno.test("checkMemoryLimit() names the flags", () => {
  throws(() => checkMemoryLimit(10, 20), /memoryLimitBytes 10: below one chunk/);
  throws(() => checkMemoryLimit(10, 0), /chunkSizeBytes 0/);
  checkMemoryLimit(20, 20);
});

Deno.test("MemoryBudget.acquire() waits until released and serves waiters in order", async () => {
  const budget = new MemoryBudget(10);
  await budget.acquire(6);
  const order: string[] = [];
  const big = budget.acquire(8).then(() => order.push("big"));
  const small = budget.acquire(1).then(() => order.push("small"));
  await Promise.resolve();
  equal(order.length, 0); // small waits behind big (no starvation)
  budget.release(6);
  await Promise.all([big, small]);
  equal(order.join(), "big,small");
  equal(budget.inUseBytes, 9);
  equal(budget.peakBytes, 9);
});

Deno.test("MemoryBudget.acquire() throws RangeError for more than the whole limit", () => {
  const budget = new MemoryBudget(10);
  throws(() => budget.acquire(11), /above the memory limit of 10/);
  throws(() => budget.acquire(-1), RangeError);
  throws(() => budget.release(1), /only 0 are held/);
});

Deno.test("MemoryBudget.acquire() rejects when its signal aborts, and frees its place", async () => {
  const budget = new MemoryBudget(10);
  await budget.acquire(10);
  const controller = new AbortController();
  const waiting = budget.acquire(5, { signal: controller.signal });
  const next = budget.acquire(1);
  controller.abort(new Error("stop"));
  await rejects(waiting, /stop/);
  budget.release(10);
  await next;
  equal(budget.inUseBytes, 1);
});

Deno.test("MemoryBudget.tryAcquire() takes only what fits", () => {
  const budget = new MemoryBudget(4);
  equal(budget.tryAcquire(3), true);
  equal(budget.tryAcquire(2), false);
  equal(budget.availableBytes, 1);
  equal(String(budget), "MemoryBudget(3/4)");
});

Deno.test("MemoryBudget onChange sees every acquire and release", async () => {
  const seen: number[] = [];
  const budget = new MemoryBudget(4, { onChange: (c) => seen.push(c.inUseBytes) });
  await budget.acquire(3);
  budget.release(2);
  equal(seen.join(), "3,1");
});
