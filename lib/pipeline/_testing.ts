/**
 * Test helpers of the pipeline: a store wrapper that counts calls and can
 * fail on demand, and byte sources that record cancellation.
 *
 * @module
 */
import { NotFoundError, TransientError } from "../stores/errors.ts";
import type {
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutOptions,
  PutResult,
} from "../stores/store.ts";

/** Counts calls per method and fails the next `failPuts` puts with a transient error. */
export class CountingStore implements ObjectStore {
  readonly inner: ObjectStore;
  readonly calls = { head: 0, get: 0, put: 0, delete: 0, list: 0 };
  /** Puts to fail (transiently) before letting them through. */
  failPuts = 0;
  /** Replaces the ETag a put reports (to fake a store that corrupted the bytes). */
  fakePutEtag: string | undefined;

  constructor(inner: ObjectStore) {
    this.inner = inner;
  }
  head(key: string, options?: { signal?: AbortSignal | undefined }): Promise<ObjectMeta> {
    this.calls.head++;
    return this.inner.head(key, options);
  }
  get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    this.calls.get++;
    return this.inner.get(key, options);
  }
  async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options?: PutOptions,
  ): Promise<PutResult> {
    this.calls.put++;
    if (this.failPuts > 0) {
      this.failPuts--;
      await body.cancel();
      throw new TransientError("Service unavailable (test)", { key });
    }
    const result = await this.inner.put(key, body, options);
    return this.fakePutEtag === undefined ? result : { ...result, etag: this.fakePutEtag };
  }
  delete(key: string, options?: { signal?: AbortSignal | undefined }): Promise<void> {
    this.calls.delete++;
    return this.inner.delete(key, options);
  }
  list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry> {
    this.calls.list++;
    return this.inner.list(prefix, options);
  }
  toString(): string {
    return `CountingStore(${this.inner})`;
  }
}

/** A store whose single object `key` is an endless-ish generated stream that records cancellation. */
export class GeneratedStore implements ObjectStore {
  readonly size: number;
  readonly pieceBytes: number;
  cancelled = false;
  pulls = 0;

  constructor(size: number, pieceBytes = 64 * 1024) {
    this.size = size;
    this.pieceBytes = pieceBytes;
  }
  head(key: string): Promise<ObjectMeta> {
    return Promise.resolve({ key, size: this.size });
  }
  get(): Promise<ReadableStream<Uint8Array>> {
    let sent = 0;
    return Promise.resolve(
      new ReadableStream<Uint8Array>({
        pull: (controller) => {
          this.pulls++;
          if (sent >= this.size) return controller.close();
          const n = Math.min(this.pieceBytes, this.size - sent);
          sent += n;
          controller.enqueue(new Uint8Array(n).fill(sent & 0xff));
        },
        cancel: () => {
          this.cancelled = true;
        },
      }, { highWaterMark: 0 }),
    );
  }
  put(): Promise<PutResult> {
    throw new Error("read-only");
  }
  delete(): Promise<void> {
    throw new Error("read-only");
  }
  async *list(): AsyncIterable<ListEntry> {}
  toString(): string {
    return "GeneratedStore";
  }
}

/** A destination whose put reads slowly and can stall, so tests can cancel mid-stream. */
export class SlowSinkStore implements ObjectStore {
  readonly delayMs: number;
  received = 0;
  constructor(delayMs = 1) {
    this.delayMs = delayMs;
  }
  readonly #written = new Map<string, number>();
  head(key: string): Promise<ObjectMeta> {
    const size = this.#written.get(key);
    if (size !== undefined) return Promise.resolve({ key, size });
    return Promise.reject(new NotFoundError(`Object not found: "${key}"`, { key }));
  }
  get(): Promise<ReadableStream<Uint8Array>> {
    throw new Error("write-only");
  }
  async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options?: PutOptions,
  ): Promise<PutResult> {
    let size = 0;
    for await (const chunk of body) {
      options?.signal?.throwIfAborted();
      this.received += chunk.byteLength;
      size += chunk.byteLength;
      await new Promise((r) => setTimeout(r, this.delayMs));
    }
    this.#written.set(key, size);
    return { size };
  }
  delete(): Promise<void> {
    return Promise.resolve();
  }
  async *list(): AsyncIterable<ListEntry> {}
  toString(): string {
    return "SlowSinkStore";
  }
}
