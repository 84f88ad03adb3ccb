/**
 * A store whose driver module is loaded on first use. The S3 driver pulls in
 * the AWS SDK, whose start-up reads a dozen environment variables: loading it
 * only when an `s3://` location is used keeps the other commands runnable
 * under least permissions (no `--allow-env` for AWS names).
 *
 * @module
 */
import type {
  BulkDeleter,
  ConditionalPutter,
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutBufferReporter,
  PutCondition,
  PutOptions,
  PutResult,
  ServerCopier,
} from "./store.ts";
import { isBulkDeleter, isConditionalPutter, isServerCopier } from "./store.ts";
import { NotSupportedError } from "./errors.ts";

/**
 * Forwards every method, and the optional abilities the loaded driver has
 * (bulk delete, conditional put, server copy), to a driver made on first use.
 */
export class LazyStore
  implements ObjectStore, BulkDeleter, ConditionalPutter, ServerCopier, PutBufferReporter {
  readonly #load: () => Promise<ObjectStore>;
  readonly #name: string;
  readonly #putBufferBytes: (size: number | undefined, bufferLimitBytes?: number) => number;
  #store: Promise<ObjectStore> | undefined;
  /** Whether the driver's create-only put is exclusive, known before it is loaded. */
  readonly exclusiveCreate: boolean;

  /**
   * @param name What `toString()` prints before the driver is loaded.
   * @param load Makes the driver (typically with a dynamic import).
   * @param known What the driver does, known before it is loaded: what its
   *   put holds (default 0), whether its create-only put is exclusive.
   */
  constructor(
    name: string,
    load: () => Promise<ObjectStore>,
    known: {
      putBufferBytes?: (size: number | undefined, bufferLimitBytes?: number) => number;
      exclusiveCreate: boolean;
    },
  ) {
    this.#name = name;
    this.#load = load;
    this.#putBufferBytes = known.putBufferBytes ?? (() => 0);
    this.exclusiveCreate = known.exclusiveCreate;
  }

  /** @inheritdoc */
  putBufferBytes(size: number | undefined, bufferLimitBytes?: number): number {
    return this.#putBufferBytes(size, bufferLimitBytes);
  }

  #inner(): Promise<ObjectStore> {
    if (!this.#store) {
      this.#store = this.#load();
      this.#store.catch(() => this.#store = undefined);
    }
    return this.#store;
  }

  /** @inheritdoc */
  async head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    return await (await this.#inner()).head(key, options);
  }

  /** @inheritdoc */
  async get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    return await (await this.#inner()).get(key, options);
  }

  /** @inheritdoc */
  async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options?: PutOptions,
  ): Promise<PutResult> {
    return await (await this.#inner()).put(key, body, options);
  }

  /** @inheritdoc */
  async delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return await (await this.#inner()).delete(key, options);
  }

  /** @inheritdoc */
  async *list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry> {
    yield* (await this.#inner()).list(prefix, options);
  }

  /** @inheritdoc */
  async deleteMany(
    keys: string[],
    options?: { signal?: AbortSignal },
  ): Promise<{ key: string; error: Error }[]> {
    const store = await this.#inner();
    if (isBulkDeleter(store)) return await store.deleteMany(keys, options);
    const failed: { key: string; error: Error }[] = [];
    for (const key of keys) {
      await store.delete(key, options).catch((error) => failed.push({ key, error }));
    }
    return failed;
  }

  /** @inheritdoc */
  async putIf(
    key: string,
    body: ReadableStream<Uint8Array>,
    condition: PutCondition,
    options?: PutOptions,
  ): Promise<PutResult> {
    const store = await this.#inner();
    if (!isConditionalPutter(store)) {
      await body.cancel();
      throw new NotSupportedError(`Conditional puts are not supported by ${store}`, { key });
    }
    return await store.putIf(key, body, condition, options);
  }

  /** @inheritdoc */
  async copyWithin(from: string, to: string, options?: { signal?: AbortSignal }): Promise<void> {
    const store = await this.#inner();
    if (!isServerCopier(store)) {
      throw new NotSupportedError(`Server-side copy is not supported by ${store}`, { key: from });
    }
    return await store.copyWithin(from, to, options);
  }

  /** @returns The driver's name. */
  toString(): string {
    return this.#name;
  }
}
