/**
 * A store wrapper that bounds the calls in flight. A `get` holds its slot
 * until its body stream ends or is cancelled, so many open bodies cannot
 * pile up behind the limit.
 *
 * @module
 */
import { forwardOptionalAbilities } from "./retry_store.ts";
import type {
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutOptions,
  PutResult,
} from "./store.ts";

/** A counting semaphore. */
export class Semaphore {
  /** Slots in all. */
  readonly limit: number;
  #available: number;
  readonly #waiting: (() => void)[] = [];

  /**
   * Creates a `Semaphore`
   *
   * @param limit Slots; a whole number >= 1.
   * @throws {RangeError} For a bad limit.
   */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`Invalid concurrency limit ${limit}: expected a whole number >= 1`);
    }
    this.limit = limit;
    this.#available = limit;
  }

  /** Slots in use. */
  get inUse(): number {
    return this.limit - this.#available;
  }

  /** Waits for a slot; the returned function gives it back (once). */
  async acquire(): Promise<() => void> {
    if (this.#available > 0) {
      this.#available--;
    } else {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#available++;
    };
  }

  /**
   * Runs `fn` holding a slot.
   *
   * @param fn The work.
   * @returns Its result.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * Wraps a body so `release` runs exactly once when it ends, errors or is cancelled.
 *
 * @param body The stream.
 * @param release Called at the end.
 * @returns The wrapped stream.
 */
export function onStreamEnd(
  body: ReadableStream<Uint8Array>,
  release: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Options of {@linkcode LimitStore}. */
export interface LimitStoreOptions {
  /** Calls in flight at most. @default 16 */
  maxConcurrency?: number;
}

/** Bounds the calls in flight against `inner`. */
export class LimitStore implements ObjectStore {
  /** The wrapped store. */
  readonly inner: ObjectStore;
  /** The permits every call of this store takes. */
  readonly semaphore: Semaphore;

  /**
   * Creates a `LimitStore`
   *
   * @param inner The store to wrap.
   * @param options The limit.
   */
  constructor(inner: ObjectStore, options: LimitStoreOptions = {}) {
    this.inner = inner;
    this.semaphore = new Semaphore(options.maxConcurrency ?? 16);
    forwardOptionalAbilities(this, inner);
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    return this.semaphore.run(() => this.inner.head(key, options));
  }

  /** The object's bytes, whole or a range, as a web stream */
  async get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    const release = await this.semaphore.acquire();
    try {
      return onStreamEnd(await this.inner.get(key, options), release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Writes the stream to `key` atomically: readers see the old object or the whole new one */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    return this.semaphore.run(() => this.inner.put(key, body, options));
  }

  /** Deletes `key`; a missing key is not an error */
  delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.semaphore.run(() => this.inner.delete(key, options));
  }

  /** Listings are not limited: they hold no body and page lazily. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry> {
    return this.inner.list(prefix, options);
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `LimitStore(n, inner)`.
   */
  toString(): string {
    return `LimitStore(${this.semaphore.limit}, ${this.inner})`;
  }
}
