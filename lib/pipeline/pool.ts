/**
 * Bounded concurrency over an (async) iterable.
 *
 * @module
 */

/** Options of {@linkcode pooledMap}. */
export interface PoolOptions {
  /** Stops taking new items; items in flight see the signal through `fn`. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and yields the
 * results as they complete (not in input order). Items are pulled from the
 * input only when a slot is free, so a lazy input is never read ahead by more
 * than `limit`. The first rejection of `fn` stops the pool: no new item is
 * started, the calls in flight are awaited, and the error is thrown; `fn` that
 * should not stop the pool returns its failure as a value instead.
 *
 * @example Three squares, two at a time
 * ```ts
 * import { pooledMap } from "./pool.ts";
 * import { deepEqual } from "node:assert/strict";
 * const out: number[] = [];
 * for await (const n of pooledMap(2, [1, 2, 3], async (n) => n * n)) out.push(n);
 * deepEqual(out.sort(), [1, 4, 9]);
 * ```
 *
 * @param limit Calls in flight at most (a positive integer).
 * @param items The inputs.
 * @param fn The work for one input.
 * @param options A signal that stops the pool.
 * @returns The results, in completion order.
 * @throws {RangeError} At once (not on first iteration) when `limit` is not a positive integer.
 */
export function pooledMap<T, R>(
  limit: number,
  items: AsyncIterable<T> | Iterable<T>,
  fn: (item: T) => Promise<R>,
  options: PoolOptions = {},
): AsyncIterable<R> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`Invalid pool limit ${limit}: expected a positive integer`);
  }
  return run(limit, items, fn, options.signal);
}

async function* run<T, R>(
  limit: number,
  items: AsyncIterable<T> | Iterable<T>,
  fn: (item: T) => Promise<R>,
  signal: AbortSignal | undefined,
): AsyncGenerator<R> {
  const iterator = Symbol.asyncIterator in items
    ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
    : toAsync((items as Iterable<T>)[Symbol.iterator]());
  type Settled = { id: number; ok: true; value: R } | { id: number; ok: false; error: unknown };
  const running = new Map<number, Promise<Settled>>();
  let nextId = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  try {
    while (true) {
      while (!exhausted && !failure && running.size < limit && !signal?.aborted) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const id = nextId++;
        const item = next.value;
        running.set(
          id,
          Promise.resolve().then(() => fn(item)).then(
            (value): Settled => ({ id, ok: true, value }),
            (error): Settled => ({ id, ok: false, error }),
          ),
        );
      }
      if (running.size === 0) break;
      const settled = await Promise.race(running.values());
      running.delete(settled.id);
      if (!settled.ok) {
        failure ??= { error: settled.error };
        continue;
      }
      if (!failure) yield settled.value;
    }
    if (failure) throw failure.error;
    signal?.throwIfAborted();
  } finally {
    if (running.size > 0) await Promise.allSettled(running.values());
    if (!exhausted) await iterator.return?.();
  }
}

/**
 * Maps `fn` over `items` with at most `limit` calls in flight, like
 * {@linkcode pooledMap}, and returns the results in input order. The first
 * rejection rejects the whole call, after the calls in flight settle.
 *
 * @example
 * ```ts
 * import { mapOrdered } from "./pool.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(await mapOrdered([3, 1, 2], 2, async (n) => n * 10), [30, 10, 20]);
 * ```
 *
 * @param items The inputs.
 * @param limit Calls in flight at most (a positive integer).
 * @param fn The work for one input and its index.
 * @param options A signal that stops the pool.
 * @returns The results, in input order.
 * @throws {RangeError} When `limit` is not a positive integer.
 */
export async function mapOrdered<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  options: PoolOptions = {},
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const work = pooledMap(limit, items.keys(), async (i) => {
    results[i] = await fn(items[i]!, i);
  }, options);
  for await (const _ of work) { /* results are stored by index */ }
  return results;
}

function toAsync<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return {
    next: () => Promise.resolve(iterator.next()),
    return: () => Promise.resolve(iterator.return?.() ?? { done: true, value: undefined }),
  };
}
