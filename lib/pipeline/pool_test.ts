import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { mapOrdered, pooledMap } from "./pool.ts";

Deno.test("pooledMap() throws RangeError at once for a bad limit", () => {
  throws(() => pooledMap(0, [1], (n) => Promise.resolve(n)), /Invalid pool limit 0/);
  throws(() => pooledMap(1.5, [1], (n) => Promise.resolve(n)), RangeError);
  throws(() => pooledMap(NaN, [1], (n) => Promise.resolve(n)), RangeError);
});

Deno.test("pooledMap() never runs more than the limit and never reads the input ahead", async () => {
  let running = 0;
  let maxRunning = 0;
  let read = 0;
  async function* input() {
    for (let i = 0; i < 20; i++) {
      read++;
      yield i;
    }
  }
  const out: number[] = [];
  for await (
    const n of pooledMap(3, input(), async (i) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      equal(read - out.length <= 3 + 1, true);
      await new Promise((r) => setTimeout(r, (i % 4) + 1));
      running--;
      return i;
    })
  ) out.push(n);
  equal(maxRunning, 3);
  deepEqual(out.sort((a, b) => a - b), [...Array(20).keys()]);
});

Deno.test("pooledMap() throws the first error after the calls in flight settle", async () => {
  let settled = 0;
  const results = pooledMap(2, [1, 2, 3, 4], async (i) => {
    await new Promise((r) => setTimeout(r, i));
    settled++;
    if (i === 1) throw new Error("boom");
    return i;
  });
  await rejects(async () => {
    for await (const _ of results) { /* drain */ }
  }, /boom/);
  equal(settled, 2);
});

Deno.test("pooledMap() stops taking items when its signal aborts", async () => {
  const controller = new AbortController();
  let started = 0;
  const results = pooledMap(1, [1, 2, 3], async (i) => {
    await Promise.resolve();
    started++;
    if (i === 1) controller.abort(new Error("stopped"));
    return i;
  }, { signal: controller.signal });
  await rejects(async () => {
    for await (const _ of results) { /* drain */ }
  }, /stopped/);
  equal(started, 1);
});

Deno.test("mapOrdered() keeps order and never exceeds its limit", async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapOrdered([...Array(20).keys()], 3, async (n) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, (n * 7) % 5));
    inFlight--;
    return n * 2;
  });
  deepEqual(out, [...Array(20).keys()].map((n) => n * 2));
  equal(peak, 3);
  await rejects(mapOrdered([1], 0, () => Promise.resolve(1)), RangeError);
});
