/**
 * A counting semaphore: at most `max` operations in flight, the rest wait in
 * arrival order. Private to the zarr area.
 *
 * @module
 */

/** Bounds how many async operations run at once. */
export class Limiter {
  readonly max: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  /**
   * @param max Operations allowed in flight at once.
   * @throws {RangeError} When `max` is not an integer >= 1.
   */
  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`Invalid maxConcurrency ${max}: expected an integer >= 1`);
    }
    this.max = max;
  }

  /** Operations running now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Runs `fn` once a slot is free and holds the slot until it settles.
   *
   * @param fn The operation.
   * @returns What `fn` returns.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active < this.max) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter; otherwise free it.
      if (next) next();
      else this.#active--;
    }
  }
}
