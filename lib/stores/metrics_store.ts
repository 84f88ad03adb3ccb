/**
 * A store wrapper that counts calls and bytes moved, with a counting stream.
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

/** Counters of a {@linkcode MetricsStore}. */
export interface StoreMetrics {
  heads: number;
  gets: number;
  puts: number;
  deletes: number;
  lists: number;
  bytesRead: number;
  bytesWritten: number;
}

function counting(body: ReadableStream<Uint8Array>, add: (n: number) => void) {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        add(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** Counts what passes through to `inner`. */
export class MetricsStore implements ObjectStore {
  readonly inner: ObjectStore;
  readonly metrics: StoreMetrics = {
    heads: 0,
    gets: 0,
    puts: 0,
    deletes: 0,
    lists: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };

  /** @param inner The store to wrap. */
  constructor(inner: ObjectStore) {
    this.inner = inner;
    forwardOptionalAbilities(this, inner);
  }

  /** @inheritdoc */
  head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    this.metrics.heads++;
    return this.inner.head(key, options);
  }

  /** @inheritdoc */
  async get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    this.metrics.gets++;
    return counting(await this.inner.get(key, options), (n) => this.metrics.bytesRead += n);
  }

  /** @inheritdoc */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    this.metrics.puts++;
    return this.inner.put(key, counting(body, (n) => this.metrics.bytesWritten += n), options);
  }

  /** @inheritdoc */
  delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    this.metrics.deletes++;
    return this.inner.delete(key, options);
  }

  /** @inheritdoc */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry> {
    this.metrics.lists++;
    return this.inner.list(prefix, options);
  }

  /** @returns `MetricsStore(inner)`. */
  toString(): string {
    return `MetricsStore(${this.inner})`;
  }
}
