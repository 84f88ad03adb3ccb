/**
 * Test helpers of the pipeline: a store wrapper that counts calls and can
 * fail on demand, and byte sources that record cancellation.
 *
 * @module
 */
import { NotFoundError, TransientError } from "../stores/errors.ts";
import { MetricsStore } from "../stores/metrics_store.ts";
import type { ListEntry, ObjectMeta, ObjectStore, PutOptions, PutResult } from "../stores/store.ts";

/**
 * A {@linkcode MetricsStore} that also fails the next `failPuts` puts with a
 * transient error and can fake the ETag a put reports.
 */
export class CountingStore extends MetricsStore {
  /** Puts to fail (transiently) before letting them through. */
  failPuts = 0;
  /** Replaces the ETag a put reports (to fake a store that corrupted the bytes). */
  fakePutEtag: string | undefined;

  /** Calls per method so far. */
  get calls(): { head: number; get: number; put: number; delete: number; list: number } {
    const m = this.metrics;
    return { head: m.heads, get: m.gets, put: m.puts, delete: m.deletes, list: m.lists };
  }

  /** @inheritdoc */
  override async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options?: PutOptions,
  ): Promise<PutResult> {
    if (this.failPuts > 0) {
      this.failPuts--;
      this.metrics.puts++;
      await body.cancel();
      throw new TransientError("Service unavailable (test)", { key });
    }
    const result = await super.put(key, body, options);
    return this.fakePutEtag === undefined ? result : { ...result, etag: this.fakePutEtag };
  }

  /** @returns `CountingStore(inner)`. */
  override toString(): string {
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
