/**
 * Native OpenStack Swift store. (Stub: being implemented.)
 *
 * @module
 */
import { NotSupportedError } from "../errors.ts";
import type { GetOptions, ListEntry, ObjectMeta, ObjectStore, PutResult } from "../store.ts";

/** Credentials: a pre-authenticated token, or TempAuth v1.0. */
export type SwiftAuthOptions =
  | { storageUrl: string; token: string }
  | { authUrl: string; user: string; key: string; storageUrl?: string | undefined };

/** Options of {@linkcode SwiftObjectStore}. */
export interface SwiftObjectStoreOptions {
  /** The container. */
  container: string;
  /** How to authenticate. */
  auth: SwiftAuthOptions;
  /** Objects larger than this (or of unknown size) are uploaded as SLO segments. @default 1 GiB */
  segmentSizeBytes?: number | undefined;
  /** Names per listing page. @default 10000 */
  listingPageSize?: number | undefined;
}

/** A Swift container spoken to natively. */
export class SwiftObjectStore implements ObjectStore {
  readonly #options: SwiftObjectStoreOptions;
  /** @param options Container, auth, segment size. */
  constructor(options: SwiftObjectStoreOptions) {
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
  /** @returns `SwiftObjectStore(container)`. */
  toString(): string {
    return `SwiftObjectStore(swift://${this.#options.container})`;
  }
}
