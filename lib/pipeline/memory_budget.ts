/**
 * A hard ceiling on buffered bytes shared by every worker of a pipeline.
 *
 * @module
 */
import { noteReleasedBytes } from "../reclaim.ts";

/** What a {@linkcode MemoryBudget} reports to an observer after each change. */
export interface BudgetChange {
  /** `acquire` or `release`. */
  kind: "acquire" | "release";
  /** Bytes acquired or released by this change. */
  bytes: number;
  /** Bytes held after the change. */
  inUseBytes: number;
}

/** Options of {@linkcode MemoryBudget}. */
export interface MemoryBudgetOptions {
  /**
   * The largest single request the budget must be able to grant (one chunk);
   * a limit below it is a `RangeError`.
   * @default 1
   */
  minRequestBytes?: number | undefined;
  /** Called after every acquire and release (tests use it to watch the ceiling). */
  onChange?: ((change: BudgetChange) => void) | undefined;
  /** Names the limit in errors, e.g. `memoryLimitBytes`. @default "memory limit" */
  name?: string | undefined;
}

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * Counts bytes in use against a limit. `acquire` waits (first come, first
 * served, so a large request is not starved by small ones) until the bytes
 * fit; `release` gives them back. The budget holds no memory itself: callers
 * acquire before they allocate or read, and release after the bytes are gone.
 *
 * @example Waiting for bytes to be released
 * ```ts
 * import { MemoryBudget } from "./memory_budget.ts";
 * import { equal } from "node:assert/strict";
 * const budget = new MemoryBudget(10);
 * await budget.acquire(8);
 * const later = budget.acquire(5); // waits: 8 + 5 > 10
 * budget.release(8);
 * await later;
 * equal(budget.inUseBytes, 5);
 * equal(budget.peakBytes, 8);
 * ```
 */
export class MemoryBudget {
  /** The ceiling in bytes. */
  readonly limitBytes: number;
  #inUse = 0;
  #peak = 0;
  readonly #waiters: Waiter[] = [];
  readonly #onChange: ((change: BudgetChange) => void) | undefined;
  readonly #name: string;

  /**
   * Creates a `MemoryBudget`
   *
   * @param limitBytes The ceiling in bytes (a positive integer).
   * @param options The smallest request to allow for, and an observer.
   * @throws {RangeError} When the limit is not a positive integer or is below `minRequestBytes`.
   */
  constructor(limitBytes: number, options: MemoryBudgetOptions = {}) {
    this.#name = options.name ?? "memory limit";
    checkPositiveInteger(limitBytes, this.#name);
    const min = options.minRequestBytes ?? 1;
    checkPositiveInteger(min, "minRequestBytes");
    if (limitBytes < min) {
      throw new RangeError(
        `Invalid ${this.#name} ${limitBytes}: below one chunk of ${min} bytes`,
      );
    }
    this.limitBytes = limitBytes;
    this.#onChange = options.onChange;
  }

  /** Bytes acquired and not yet released. */
  get inUseBytes(): number {
    return this.#inUse;
  }

  /** The most bytes ever held at once. */
  get peakBytes(): number {
    return this.#peak;
  }

  /** Bytes that can be acquired right now without waiting. */
  get availableBytes(): number {
    return this.limitBytes - this.#inUse;
  }

  /**
   * Waits until `bytes` fit under the limit, then takes them.
   *
   * @param bytes How many bytes (a non-negative integer, at most the limit).
   * @param options A signal that abandons the wait.
   * @returns When the bytes are held.
   * @throws {RangeError} When `bytes` is negative or larger than the whole limit.
   */
  acquire(bytes: number, options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    this.#checkRequest(bytes);
    options.signal?.throwIfAborted();
    if (this.#waiters.length === 0 && this.#inUse + bytes <= this.limitBytes) {
      this.#take(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const signal = options.signal;
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.#waiters.indexOf(waiter);
          if (index !== -1) this.#waiters.splice(index, 1);
          reject(signal?.reason);
          this.#wake();
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Takes `bytes` only if they fit now and nobody is waiting.
   *
   * @param bytes How many bytes.
   * @returns Whether they were taken.
   */
  tryAcquire(bytes: number): boolean {
    this.#checkRequest(bytes);
    if (this.#waiters.length > 0 || this.#inUse + bytes > this.limitBytes) return false;
    this.#take(bytes);
    return true;
  }

  /**
   * Gives bytes back and wakes the waiters that now fit.
   *
   * @param bytes How many bytes (at most what is held).
   * @throws {RangeError} When releasing more than is held.
   */
  release(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`Invalid release of ${bytes} bytes: expected a non-negative integer`);
    }
    if (bytes > this.#inUse) {
      throw new RangeError(`Invalid release of ${bytes} bytes: only ${this.#inUse} are held`);
    }
    if (bytes === 0) return;
    this.#inUse -= bytes;
    noteReleasedBytes(bytes);
    this.#onChange?.({ kind: "release", bytes, inUseBytes: this.#inUse });
    this.#wake();
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `MemoryBudget(inUse/limit)`.
   */
  toString(): string {
    return `MemoryBudget(${this.#inUse}/${this.limitBytes})`;
  }

  #checkRequest(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`Invalid request of ${bytes} bytes: expected a non-negative integer`);
    }
    if (bytes > this.limitBytes) {
      throw new RangeError(
        `Invalid request of ${bytes} bytes: above the ${this.#name} of ${this.limitBytes}`,
      );
    }
  }

  #take(bytes: number): void {
    this.#inUse += bytes;
    if (this.#inUse > this.#peak) this.#peak = this.#inUse;
    this.#onChange?.({ kind: "acquire", bytes, inUseBytes: this.#inUse });
  }

  #wake(): void {
    while (this.#waiters.length > 0) {
      const first = this.#waiters[0]!;
      if (this.#inUse + first.bytes > this.limitBytes) return;
      this.#waiters.shift();
      first.signal?.removeEventListener("abort", first.onAbort);
      this.#take(first.bytes);
      first.resolve();
    }
  }
}

/**
 * Checks that a memory limit holds at least one chunk.
 *
 * @example A limit below one chunk
 * ```ts
 * import { checkMemoryLimit } from "./memory_budget.ts";
 * import { throws } from "node:assert/strict";
 * throws(() => checkMemoryLimit(1024, 4096), RangeError);
 * ```
 *
 * @param memoryLimitBytes The limit.
 * @param chunkSizeBytes One chunk.
 * @throws {RangeError} When either is not a positive integer or the limit is below the chunk.
 */
export function checkMemoryLimit(memoryLimitBytes: number, chunkSizeBytes: number): void {
  checkPositiveInteger(chunkSizeBytes, "chunkSizeBytes");
  checkPositiveInteger(memoryLimitBytes, "memoryLimitBytes");
  if (memoryLimitBytes < chunkSizeBytes) {
    throw new RangeError(
      `Invalid memoryLimitBytes ${memoryLimitBytes}: below one chunk (chunkSizeBytes ${chunkSizeBytes})`,
    );
  }
}

function checkPositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Invalid ${name} ${value}: expected a positive integer`);
  }
}
