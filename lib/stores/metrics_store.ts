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
  /** HEAD requests made */
  heads: number;
  /** GET requests made */
  gets: number;
  /** Puts made */
  puts: number;
  /** Deletes made */
  deletes: number;
  /** Listings made */
  lists: number;
  /** Bytes read from object bodies */
  bytesRead: number;
  /** Bytes written by puts */
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
  /** The wrapped store. */
  readonly inner: ObjectStore;
  /** The counts so far. */
  readonly metrics: StoreMetrics = {
    heads: 0,
    gets: 0,
    puts: 0,
    deletes: 0,
    lists: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };

  /**
   * Creates a `MetricsStore`
   *
   * @param inner The store to wrap.
   */
  constructor(inner: ObjectStore) {
    this.inner = inner;
    forwardOptionalAbilities(this, inner);
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    this.metrics.heads++;
    return this.inner.head(key, options);
  }

  /** The object's bytes, whole or a range, as a web stream */
  async get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    this.metrics.gets++;
    return counting(await this.inner.get(key, options), (n) => this.metrics.bytesRead += n);
  }

  /** Writes the stream to `key` atomically: readers see the old object or the whole new one */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    this.metrics.puts++;
    return this.inner.put(key, counting(body, (n) => this.metrics.bytesWritten += n), options);
  }

  /** Deletes `key`; a missing key is not an error */
  delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    this.metrics.deletes++;
    return this.inner.delete(key, options);
  }

  /** Every object under `prefix` (all pages), in key order */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry> {
    this.metrics.lists++;
    return this.inner.list(prefix, options);
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `MetricsStore(inner)`.
   */
  toString(): string {
    return `MetricsStore(${this.inner})`;
  }
}
