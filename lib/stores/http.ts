/**
 * Read-only HTTP(S) store. (Stub: being implemented.)
 *
 * @module
 */
import { NotSupportedError } from "./errors.ts";
import type { GetOptions, ListEntry, ObjectMeta, ObjectStore, PutResult } from "./store.ts";

/** Options of {@linkcode HttpStore}. */
export interface HttpStoreOptions {
  /** `scheme://host[:port]` (or a whole URL, with keys resolved below it). */
  baseUrl: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** Read-only store over plain HTTP(S). */
export class HttpStore implements ObjectStore {
  readonly #options: HttpStoreOptions;
  /** @param options Base URL and headers. */
  constructor(options: HttpStoreOptions) {
    this.#options = options;
  }
  /** @inheritdoc */
  head(key: string): Promise<ObjectMeta> {
    throw new NotSupportedError("not implemented", { key });
  }
  /** @inheritdoc */
  get(key: string, _options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    throw new NotSupportedError("not implemented", { key });
  }
  /** @inheritdoc */
  put(key: string): Promise<PutResult> {
    throw new NotSupportedError("not implemented", { key });
  }
  /** @inheritdoc */
  delete(key: string): Promise<void> {
    throw new NotSupportedError("not implemented", { key });
  }
  /** @inheritdoc */
  list(_prefix: string): AsyncIterable<ListEntry> {
    throw new NotSupportedError("not implemented");
  }
  /** @returns `HttpStore(baseUrl)`. */
  toString(): string {
    return `HttpStore(${this.#options.baseUrl})`;
  }
}
