/**
 * A store wrapper that retries idempotent calls on {@linkcode TransientError}
 * with jittered exponential back-off, honouring retry-after hints.
 *
 * @module
 */
import { isTransient, StoreError, TransientError } from "./errors.ts";
import type {
  ConditionalPutter,
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutChecker,
  PutOptions,
  PutResult,
} from "./store.ts";

/** Options of {@linkcode RetryStore}. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 4 */
  maxAttempts?: number;
  /** First back-off. @default 200 */
  baseDelayMs?: number;
  /** Longest back-off. @default 10000 */
  maxDelayMs?: number;
}

/**
 * Runs `fn` until it succeeds, fails with a non-transient error, or runs out
 * of attempts; the final error records how many attempts were made.
 *
 * @param fn The idempotent operation.
 * @param options Attempts and delays.
 * @returns What `fn` returns.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions & { signal?: AbortSignal | undefined } = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 4;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`Invalid maxAttempts ${maxAttempts}: expected an integer >= 1`);
  }
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 10_000;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isTransient(error) || attempt >= maxAttempts || options.signal?.aborted) {
        if (error instanceof StoreError) error.attempts = attempt;
        throw error;
      }
      const hinted = error instanceof TransientError && error.retryAfterSeconds !== undefined
        ? error.retryAfterSeconds * 1000
        : 0;
      const backoff = Math.random() * Math.min(cap, base * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.max(hinted, backoff)));
    }
  }
}

/**
 * Retries `head`, `get` (the request, not a body already streaming),
 * `delete` and `list` (until its first entry); `put` is passed through,
 * because a stream cannot be replayed: the pipeline retries whole objects.
 */
export class RetryStore implements ObjectStore {
  /** The wrapped store. */
  readonly inner: ObjectStore;
  readonly #options: RetryOptions;

  /**
   * Creates a `RetryStore`
   *
   * @param inner The store to wrap.
   * @param options Attempts and delays.
   */
  constructor(inner: ObjectStore, options: RetryOptions = {}) {
    this.inner = inner;
    this.#options = options;
    forwardOptionalAbilities(this, inner);
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  head(key: string, options: { signal?: AbortSignal } = {}): Promise<ObjectMeta> {
    return withRetry(() => this.inner.head(key, options), { ...this.#options, ...options });
  }

  /** The object's bytes, whole or a range, as a web stream */
  get(key: string, options: GetOptions = {}): Promise<ReadableStream<Uint8Array>> {
    return withRetry(() => this.inner.get(key, options), { ...this.#options, ...options });
  }

  /** Writes the stream to `key` atomically: readers see the old object or the whole new one */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, options);
  }

  /** Deletes `key`; a missing key is not an error */
  delete(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return withRetry(() => this.inner.delete(key, options), { ...this.#options, ...options });
  }

  /** Every object under `prefix` (all pages), in key order */
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    let started = false;
    const attempt = async function* (inner: ObjectStore) {
      for await (const entry of inner.list(prefix, options)) {
        started = true;
        yield entry;
      }
    };
    for (let tries = 1;; tries++) {
      try {
        yield* attempt(this.inner);
        return;
      } catch (error) {
        if (started || !isTransient(error) || tries >= (this.#options.maxAttempts ?? 4)) {
          throw error;
        }
        await new Promise((r) => setTimeout(r, (this.#options.baseDelayMs ?? 200) * tries));
      }
    }
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `RetryStore(inner)`.
   */
  toString(): string {
    return `RetryStore(${this.inner})`;
  }
}

const OPTIONAL_ABILITIES = [
  "deleteMany",
  "putIf",
  "copyWithin",
  "urlOf",
  "putBufferBytes",
] as const;

/**
 * Copies the optional abilities (bulk delete, conditional put, server copy,
 * URLs, what a put buffers, what a put checks, whether a create-only put is exclusive) of `inner` onto a wrapper, so type guards see through wrappers.
 *
 * @param wrapper The wrapping store.
 * @param inner The wrapped store.
 */
export function forwardOptionalAbilities(wrapper: object, inner: ObjectStore): void {
  for (const name of OPTIONAL_ABILITIES) {
    const method = (inner as unknown as Record<string, unknown>)[name];
    if (typeof method === "function") {
      Object.defineProperty(wrapper, name, {
        value: (...args: unknown[]) => (method as (...a: unknown[]) => unknown).apply(inner, args),
        enumerable: false,
      });
    }
  }
  for (const name of ["putCheck", "exclusiveCreate"] as const) {
    const value = (inner as Partial<PutChecker & ConditionalPutter>)[name];
    if (value !== undefined) Object.defineProperty(wrapper, name, { value, enumerable: false });
  }
}
