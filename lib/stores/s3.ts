/**
 * S3 store over `@aws-sdk/client-s3`. (Stub: being implemented.)
 *
 * @module
 */
import { NotSupportedError } from "./errors.ts";
import type { GetOptions, ListEntry, ObjectMeta, ObjectStore, PutResult } from "./store.ts";

/** Static credentials. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** Options of {@linkcode S3Store}. */
export interface S3StoreOptions {
  /** The bucket. */
  bucket: string;
  /** Endpoint URL (e.g. `http://127.0.0.1:8080`); AWS when unset. */
  endpoint?: string | undefined;
  /** Region. @default "us-east-1" */
  region?: string | undefined;
  /** Path-style addressing. @default true when an endpoint is set */
  forcePathStyle?: boolean | undefined;
  /** Explicit credentials; the SDK's default chain when unset (unless anonymous). */
  credentials?: S3Credentials | undefined;
  /** Unsigned requests. @default false */
  anonymous?: boolean | undefined;
  /** Send `x-amz-request-payer: requester`. @default false */
  requesterPays?: boolean | undefined;
  /** Bodies of unknown size or larger than this go multipart. @default 16 MiB */
  multipartThresholdBytes?: number | undefined;
  /** Part size of multipart uploads. @default 16 MiB */
  partSizeBytes?: number | undefined;
  /** Parts in flight per upload. @default 4 */
  putMaxConcurrency?: number | undefined;
}

/** S3 (and S3-compatible) buckets. */
export class S3Store implements ObjectStore {
  readonly #options: S3StoreOptions;
  /** @param options Bucket, endpoint, credentials. */
  constructor(options: S3StoreOptions) {
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
  /** @returns `S3Store(bucket)`. */
  toString(): string {
    return `S3Store(s3://${this.#options.bucket})`;
  }
}
