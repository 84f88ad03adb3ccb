/**
 * The tuning of every exchange operation: the transfer pipeline's options
 * (workers, chunk size, memory limit, retries, signal), resolved once into
 * the shared memory budget they draw from.
 *
 * @module
 */
import { checkPipelineOptions, MemoryBudget, type PipelineOptions } from "../pipeline/mod.ts";
import type { RetryOptions } from "../stores/mod.ts";

/** Options of exchange operations: those of the transfer pipeline. */
export type ExchangeOptions = PipelineOptions;

/** {@linkcode ExchangeOptions} with defaults applied and the budget made. */
export interface ResolvedExchangeOptions {
  /** The shared memory budget (`memoryLimitBytes`). */
  budget: MemoryBudget;
  /** Bytes per chunk. */
  chunkSizeBytes: number;
  /** Objects (or archives) in flight. */
  maxWorkers: number;
  /** Cancels the operation. */
  signal: AbortSignal | undefined;
  /** Retries of idempotent steps. */
  retry: RetryOptions | undefined;
  /** The options to hand on to `runTransfers` (sharing the budget). */
  pipeline: PipelineOptions;
}

/**
 * Applies the defaults and makes (or reuses) the memory budget.
 *
 * @example
 * ```ts
 * import { resolveExchangeOptions } from "./options.ts";
 * import { equal, throws } from "node:assert/strict";
 * const resolved = resolveExchangeOptions({ memoryLimitBytes: 4 * 2 ** 20 });
 * equal(resolved.budget.limitBytes, 4 * 2 ** 20);
 * equal(resolveExchangeOptions(resolved.pipeline).budget, resolved.budget);
 * throws(() => resolveExchangeOptions({ chunkSizeBytes: 2048, memoryLimitBytes: 1024 }), RangeError);
 * ```
 *
 * @param options The caller's options.
 * @returns The resolved options.
 * @throws {RangeError} On invalid options (a limit below one chunk, a zero worker count).
 */
export function resolveExchangeOptions(options: ExchangeOptions = {}): ResolvedExchangeOptions {
  const checked = checkPipelineOptions(options);
  const budget = options.budget ??
    new MemoryBudget(checked.memoryLimitBytes, {
      minRequestBytes: checked.chunkSizeBytes,
      name: "memoryLimitBytes",
    });
  return {
    budget,
    chunkSizeBytes: checked.chunkSizeBytes,
    maxWorkers: checked.maxWorkers,
    signal: options.signal,
    retry: options.retry,
    pipeline: { ...options, budget },
  };
}
