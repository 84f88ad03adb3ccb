/**
 * S3 (and S3-compatible, e.g. Swift s3api) buckets over `@aws-sdk/client-s3`.
 *
 * Wire choices, all measured against Swift s3api 2.30 and valid on AWS:
 * checksums only when an operation requires them (no aws-chunked bodies),
 * `Content-MD5` added to DeleteObjects, request bodies handed to the SDK's
 * node handler as `Readable` streams, and multipart uploads of our own for
 * bodies of unknown size or above the threshold (one buffer per part, each
 * part checked by its Content-MD5 and resent from its buffer on failure).
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { checkKey, compareKeys } from "../_keys.ts";
import {
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  StoreError,
  TransientError,
} from "../errors.ts";
import { redact, registerSecret } from "../redact.ts";
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
} from "../store.ts";
import { checkRange, httpRangeHeader, normalizeEtag } from "../store.ts";
import {
  S3_MAX_PARTS,
  S3_MIN_PART_BYTES,
  S3_UPLOAD_DEFAULTS,
  s3PartsInFlight,
  s3PartSizeFor,
  s3PutBufferBytes,
} from "./_parts.ts";
import { encodeKeyPath } from "../location.ts";
import { noteReleasedBytes } from "../../reclaim.ts";
import { withRetry } from "../retry_store.ts";
import { guardBody } from "../_body.ts";
import { classify, type S3ErrorContext } from "./classify.ts";

/** Static credentials. */
export interface S3Credentials {
  /** The access key id. */
  accessKeyId: string;
  /** The secret access key; registered with `redact()` so it never appears in output. */
  secretAccessKey: string;
  /** A session token for temporary credentials. */
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
  /** Unsigned requests (public buckets). @default false */
  anonymous?: boolean | undefined;
  /** Send `x-amz-request-payer: requester` on every request. @default false */
  requesterPays?: boolean | undefined;
  /** Bodies of unknown size or larger than this go multipart. @default 16 MiB */
  multipartThresholdBytes?: number | undefined;
  /** Part size of multipart uploads (at least 5 MiB). @default 16 MiB */
  partSizeBytes?: number | undefined;
  /** Parts in flight per upload. @default 4 */
  putMaxConcurrency?: number | undefined;
  /**
   * `copyWithin` of objects larger than this copies in parts (UploadPartCopy):
   * one CopyObject may copy at most 5 GiB. @default 5 GiB
   */
  copyThresholdBytes?: number | undefined;
  /** Part size of multipart copies (raised to stay within 10,000 parts). @default 512 MiB */
  copyPartSizeBytes?: number | undefined;
  /** Keys per ListObjectsV2 page (`MaxKeys`). @default the server's (1000) */
  listingPageSize?: number | undefined;
  /** Keys per DeleteObjects request in `deleteMany` (1 to 1000). @default 1000 */
  deleteBatchSize?: number | undefined;
  /**
   * Before the first write, check that the bucket exists and create it when
   * it does not (as rclone does). @default true
   */
  createBucket?: boolean | undefined;
}

const MiB = 1024 * 1024;
const MIN_PART_SIZE = S3_MIN_PART_BYTES;
/** The most one CopyObject, or one UploadPartCopy part, may copy. */
const MAX_COPY_BYTES = 5 * 1024 * MiB;
const DELETE_BATCH = 1000;

/** Names of SDK errors, by the family member they map to. */
const SILENT_LOGGER = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * S3 and S3-compatible buckets. Implements the optional abilities
 * {@linkcode BulkDeleter} (DeleteObjects, 1000 keys a request),
 * {@linkcode ConditionalPutter} (`If-Match` / `If-None-Match`; servers
 * without conditional writes, such as Swift s3api 2.30, answer 501, which
 * surfaces as `NotSupportedError`) and {@linkcode ServerCopier} (CopyObject,
 * objects up to 5 GiB).
 *
 * The SDK's own retries are off for single requests (the `RetryStore`
 * wrapper retries idempotent calls); multipart part uploads keep the SDK's
 * retries, because a part is buffered and can be resent while the source
 * stream cannot.
 *
 * @example Reading an object from an S3-compatible endpoint
 * ```ts ignore
 * import { S3Store } from "./store.ts";
 * import { getBytes } from "../ext.ts";
 * const store = new S3Store({
 *   bucket: "data",
 *   endpoint: "http://127.0.0.1:8080",
 *   credentials: { accessKeyId: "test:tester", secretAccessKey: "testing" },
 * });
 * const bytes = await getBytes(store, "a/b.bin");
 * ```
 */
export class S3Store
  implements ObjectStore, BulkDeleter, ConditionalPutter, ServerCopier, PutBufferReporter {
  /** S3 decides `If-None-Match: *` atomically (servers without it answer 501). */
  readonly exclusiveCreate = true;
  readonly #options: S3StoreOptions;
  readonly #client: S3Client;
  readonly #uploadClient: S3Client;
  readonly #threshold: number;
  readonly #partSize: number;
  readonly #concurrency: number;
  readonly #deleteBatch: number;
  readonly #copyThreshold: number;
  readonly #copyPartSize: number;
  #bucketReady: Promise<void> | undefined;

  /**
   * Creates a `S3Store`
   *
   * @param options Bucket, endpoint, credentials and upload tuning.
   * @throws {RangeError} For a part size under 5 MiB or a non-positive count.
   */
  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new TypeError("Invalid S3 bucket: it is empty");
    this.#options = { ...options };
    this.#threshold = positive(
      options.multipartThresholdBytes,
      S3_UPLOAD_DEFAULTS.multipartThresholdBytes,
      "multipartThresholdBytes",
    );
    this.#partSize = positive(
      options.partSizeBytes,
      S3_UPLOAD_DEFAULTS.partSizeBytes,
      "partSizeBytes",
    );
    if (this.#partSize < MIN_PART_SIZE) {
      throw new RangeError(
        `Invalid partSizeBytes ${this.#partSize}: S3 parts must be at least ${MIN_PART_SIZE} bytes`,
      );
    }
    this.#concurrency = positive(
      options.putMaxConcurrency,
      S3_UPLOAD_DEFAULTS.putMaxConcurrency,
      "putMaxConcurrency",
    );
    this.#deleteBatch = positive(options.deleteBatchSize, DELETE_BATCH, "deleteBatchSize");
    if (this.#deleteBatch > DELETE_BATCH) {
      throw new RangeError(
        `Invalid deleteBatchSize ${this.#deleteBatch}: S3 deletes at most ${DELETE_BATCH} keys a request`,
      );
    }
    if (options.listingPageSize !== undefined) {
      positive(options.listingPageSize, 1000, "listingPageSize");
    }
    this.#copyThreshold = positive(
      options.copyThresholdBytes,
      MAX_COPY_BYTES,
      "copyThresholdBytes",
    );
    this.#copyPartSize = positive(options.copyPartSizeBytes, 512 * MiB, "copyPartSizeBytes");
    if (this.#copyPartSize < MIN_PART_SIZE || this.#copyPartSize > MAX_COPY_BYTES) {
      throw new RangeError(
        `Invalid copyPartSizeBytes ${this.#copyPartSize}: S3 copy parts must be 5 MiB to 5 GiB`,
      );
    }
    registerSecret(options.credentials?.secretAccessKey);
    registerSecret(options.credentials?.sessionToken);
    this.#client = this.#makeClient(1);
    this.#uploadClient = this.#makeClient(3);
    sdkClients.set(this, this.#client);
  }

  /** The bucket this store reads and writes. */
  get bucket(): string {
    return this.#options.bucket;
  }

  #makeClient(maxAttempts: number): S3Client {
    const o = this.#options;
    const config: S3ClientConfig = {
      region: o.region ?? "us-east-1",
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      followRegionRedirects: true,
      maxAttempts,
      // lib/ does not print: the SDK would warn on the console about streams it cannot retry.
      logger: SILENT_LOGGER,
    };
    if (o.endpoint) config.endpoint = o.endpoint;
    if (o.anonymous) {
      // Signing needs some identity; the signature is stripped below.
      config.credentials = { accessKeyId: "anonymous", secretAccessKey: "anonymous" };
    } else if (o.credentials) {
      config.credentials = {
        accessKeyId: o.credentials.accessKeyId,
        secretAccessKey: o.credentials.secretAccessKey,
        ...(o.credentials.sessionToken ? { sessionToken: o.credentials.sessionToken } : {}),
      };
    }
    const client = new S3Client(config);
    // Swift s3api requires Content-MD5 on DeleteObjects; the SDK sends only a CRC32.
    client.middlewareStack.add(
      (next, context) => (args) => {
        const request = args.request as { body?: unknown; headers?: Record<string, string> };
        if (
          context.commandName === "DeleteObjectsCommand" && typeof request.body === "string" &&
          request.headers
        ) {
          request.headers["content-md5"] = createHash("md5").update(request.body).digest("base64");
        }
        return next(args);
      },
      { step: "build", name: "ferryContentMd5" },
    );
    if (o.requesterPays) {
      client.middlewareStack.add(
        (next) => (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers["x-amz-request-payer"] = "requester";
          return next(args);
        },
        { step: "build", name: "ferryRequesterPays" },
      );
    }
    if (o.anonymous) {
      // The deserialize step runs after signing, just before the request is sent.
      client.middlewareStack.add(
        (next) => (args) => {
          const headers = (args.request as { headers?: Record<string, string> }).headers;
          if (headers) {
            for (const name of Object.keys(headers)) {
              if (/^(authorization|x-amz-date|x-amz-security-token)$/i.test(name)) {
                delete headers[name];
              }
            }
          }
          return next(args);
        },
        { step: "deserialize", priority: "low", name: "ferryAnonymous" },
      );
    }
    return client;
  }

  #context(op: string, key?: string): S3ErrorContext {
    return { op, bucket: this.#options.bucket, key, store: String(this) };
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  async head(key: string, options: { signal?: AbortSignal | undefined } = {}): Promise<ObjectMeta> {
    checkKey(key, String(this));
    try {
      const r = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#options.bucket, Key: key }),
        { abortSignal: options.signal },
      );
      if (r.ContentLength === undefined) {
        // Not a 0-byte object: an answer (from a proxy, say) that does not tell the size.
        throw new StoreError(
          `Cannot head "s3://${this.#options.bucket}/${key}": answered without a size (no Content-Length)`,
          { store: String(this), key },
        );
      }
      return {
        key,
        size: r.ContentLength,
        etag: normalizeEtag(r.ETag),
        lastModified: r.LastModified,
        contentType: r.ContentType,
      };
    } catch (error) {
      throw classify(error, this.#context("head", key));
    }
  }

  /**
   * The object's bytes, whole or a range, as a web stream
   * An empty range (length 0) yields an empty stream without a request; a
   * range starting at or past the end yields an empty stream; one running
   * past the end is clamped.
   */
  async get(key: string, options: GetOptions = {}): Promise<ReadableStream<Uint8Array>> {
    checkKey(key, String(this));
    let range: string | undefined;
    if (options.range) {
      checkRange(options.range);
      range = httpRangeHeader(options.range);
      if (range === undefined) return emptyStream();
    }
    try {
      const r = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#options.bucket, Key: key, Range: range }),
        { abortSignal: options.signal },
      );
      if (!r.Body) return emptyStream();
      return guardBody(r.Body.transformToWebStream() as ReadableStream<Uint8Array>, {
        what: `GET "s3://${this.#options.bucket}/${key}"`,
        expectedBytes: r.ContentLength,
        store: String(this),
        key,
        signal: options.signal,
      });
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (range && (e.name === "InvalidRange" || e.$metadata?.httpStatusCode === 416)) {
        return emptyStream();
      }
      throw classify(error, this.#context("get", key));
    }
  }

  /** Multipart uploads hold their parts in flight (twice) and the one being filled. */
  putBufferBytes(size: number | undefined, bufferLimitBytes?: number): number {
    return s3PutBufferBytes(size, {
      multipartThresholdBytes: this.#threshold,
      partSizeBytes: this.#partSize,
      putMaxConcurrency: this.#concurrency,
    }, bufferLimitBytes);
  }

  /**
   * Writes the stream to `key` atomically: readers see the old object or the whole new one
   * Bodies of known size up to `multipartThresholdBytes` go in one PutObject;
   * larger or unknown-size bodies go multipart (`partSizeBytes` parts,
   * `putMaxConcurrency` in flight, so at most their product is buffered), and
   * a failed multipart upload is aborted. A body whose length differs from
   * `size` fails the put.
   */
  put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<PutResult> {
    return this.#write(key, body, options, undefined);
  }

  /**
   * Like `put`, with `If-None-Match: *` or `If-Match: "etag"`.
   *
   * @param key The object's key.
   * @param body The new content.
   * @param condition The precondition.
   * @param options Size, content type, signal.
   * @returns What the store reports.
   * @throws {ConflictError} When the condition does not hold.
   * @throws {NotSupportedError} When the server has no conditional writes (Swift s3api).
   */
  putIf(
    key: string,
    body: ReadableStream<Uint8Array>,
    condition: PutCondition,
    options: PutOptions = {},
  ): Promise<PutResult> {
    return this.#write(key, body, options, condition);
  }

  async #write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: PutOptions,
    condition: PutCondition | undefined,
  ): Promise<PutResult> {
    checkKey(key, String(this));
    options.signal?.throwIfAborted();
    const size = options.size;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
      throw new RangeError(`Invalid size ${size} for "${key}": expected an integer >= 0`);
    }
    await this.#ensureBucket(options.signal);
    const measured = new MeasureStream(size, key);
    const source = body.pipeThrough(measured);
    const params: PutObjectCommandInput = {
      Bucket: this.#options.bucket,
      Key: key,
      ContentType: options.contentType ?? "application/octet-stream",
    };
    if (condition && "ifNoneMatch" in condition) params.IfNoneMatch = condition.ifNoneMatch;
    if (condition && "ifMatch" in condition) {
      params.IfMatch = `"${normalizeEtag(condition.ifMatch)}"`;
    }
    let sourceFailure: Error | undefined;
    try {
      let etag: string | undefined;
      if (size !== undefined && size <= this.#threshold) {
        // A source that fails mid-body must abort the request, or the server waits for the rest.
        const abort = new AbortController();
        const onAbort = () => abort.abort(options.signal?.reason);
        if (options.signal?.aborted) onAbort();
        options.signal?.addEventListener("abort", onAbort, { once: true });
        const readable = Readable.fromWeb(source as unknown as NodeWebReadableStream<Uint8Array>);
        readable.on("error", (error) => {
          sourceFailure ??= error;
          abort.abort(error);
        });
        try {
          const r = await this.#client.send(
            new PutObjectCommand({ ...params, Body: readable, ContentLength: size }),
            { abortSignal: abort.signal },
          );
          etag = r.ETag;
        } finally {
          options.signal?.removeEventListener("abort", onAbort);
        }
      } else {
        etag = await this.#putMultipart(params, source, size, options);
      }
      return { etag: normalizeEtag(etag), size: measured.bytes };
    } catch (error) {
      if (measured.failure) throw measured.failure;
      if (sourceFailure && !options.signal?.aborted) throw sourceFailure;
      const name = (error as { name?: string }).name;
      if (name === "NoSuchBucket" && this.#options.createBucket !== false) {
        // The bucket vanished after the check: create it. The body cannot be
        // replayed once read, so the caller retries the whole object.
        this.#bucketReady = undefined;
        await this.#ensureBucket(options.signal);
        throw new TransientError(
          `Cannot put "s3://${this.#options.bucket}/${key}": the bucket was missing and has been created, retry the put`,
          { store: String(this), key },
        );
      }
      throw classify(error, this.#context("put", key));
    }
  }

  /**
   * A multipart upload whose parts are read into one buffer each, at most
   * `putMaxConcurrency` in flight and one being filled (what `putBufferBytes`
   * reports). Each part is sent with its Content-MD5, so the server checks
   * every byte, and is resent by the SDK's retries (it is a buffer, so it
   * can be); each buffer is let go as soon as its part is in. The upload is
   * completed once every part is in, and aborted on any failure: nothing is
   * visible at the key before. A body that ends within its first part is
   * sent as one PutObject.
   */
  async #putMultipart(
    params: PutObjectCommandInput,
    body: ReadableStream<Uint8Array>,
    size: number | undefined,
    options: PutOptions,
  ): Promise<string | undefined> {
    const signal = options.signal;
    const partSize = s3PartSizeFor(size, this.#partSize);
    const inFlightLimit = s3PartsInFlight(partSize, this.#concurrency, options.bufferLimitBytes);
    const reader = new PartReader(body, partSize);
    let uploadId: string | undefined;
    try {
      const first = await reader.next();
      if (await reader.atEnd()) {
        const bytes = first ?? new Uint8Array();
        const r = await this.#uploadClient.send(
          new PutObjectCommand({
            ...params,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ContentMD5: md5Base64(bytes),
          }),
          { abortSignal: signal },
        );
        return r.ETag;
      }
      const { Bucket, Key, IfMatch, IfNoneMatch, ...rest } = params;
      const created = await this.#client.send(
        new CreateMultipartUploadCommand({ Bucket, Key, ContentType: rest.ContentType }),
        { abortSignal: signal },
      );
      uploadId = created.UploadId;
      const parts: { PartNumber: number; ETag: string | undefined }[] = [];
      const inFlight = new Set<Promise<void>>();
      let failure: { error: unknown } | undefined;
      let next: Uint8Array | undefined = first;
      for (let number = 1; next !== undefined; number++) {
        if (number > S3_MAX_PARTS) {
          throw new RangeError(`Body of "${Key}" needs more than ${S3_MAX_PARTS} parts`);
        }
        const part = this.#uploadPart({ Bucket, Key, UploadId: uploadId }, number, next, signal)
          .then((etag) => void parts.push({ PartNumber: number, ETag: etag }))
          .catch((error) => void (failure ??= { error }))
          .finally(() => inFlight.delete(part));
        inFlight.add(part);
        if (inFlight.size >= inFlightLimit) await Promise.race(inFlight);
        if (failure) throw failure.error;
        next = await reader.next();
      }
      await Promise.all(inFlight);
      if (failure) throw failure.error;
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      const done = await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(IfMatch === undefined ? {} : { IfMatch }),
          ...(IfNoneMatch === undefined ? {} : { IfNoneMatch }),
        }),
        { abortSignal: signal },
      );
      return done.ETag;
    } catch (error) {
      await reader.cancel(error);
      if (uploadId !== undefined) {
        await this.#client.send(
          new AbortMultipartUploadCommand({
            Bucket: params.Bucket,
            Key: params.Key,
            UploadId: uploadId,
          }),
        ).catch(() => {});
      }
      throw error;
    }
  }

  async #uploadPart(
    upload: { Bucket: string | undefined; Key: string | undefined; UploadId: string | undefined },
    number: number,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const md5 = createHash("md5").update(bytes);
    const contentMd5 = md5.copy().digest("base64");
    // Sent as a stream of views over the part: the HTTP client copies a
    // piece at a time instead of the whole part. A stream cannot be replayed
    // by the SDK, so a failed part is resent here, from the buffer.
    const r = await withRetry(
      () =>
        this.#client.send(
          new UploadPartCommand({
            ...upload,
            PartNumber: number,
            Body: Readable.from(piecesOf(bytes, PART_PIECE_BYTES)),
            ContentLength: bytes.byteLength,
            ContentMD5: contentMd5,
          }),
          { abortSignal: signal },
        ).catch((error) => {
          throw classify(error, this.#context("put", upload.Key ?? ""));
        }),
      { signal },
    );
    const etag = normalizeEtag(r.ETag);
    const hex = md5.digest("hex");
    if (etag !== undefined && /^[0-9a-f]{32}$/i.test(etag) && etag.toLowerCase() !== hex) {
      throw new TransientError(
        `S3 stored part ${number} of "${upload.Key}" with ETag ${etag}, but the bytes sent have MD5 ${hex}`,
        { store: String(this), key: upload.Key },
      );
    }
    noteReleasedBytes(bytes.byteLength, "long");
    return r.ETag;
  }

  #ensureBucket(signal: AbortSignal | undefined): Promise<void> {
    if (this.#options.createBucket === false) return Promise.resolve();
    this.#bucketReady ??= this.#checkOrCreateBucket(signal).catch((error) => {
      this.#bucketReady = undefined;
      throw error;
    });
    return this.#bucketReady;
  }

  async #checkOrCreateBucket(signal: AbortSignal | undefined): Promise<void> {
    const bucket = this.#options.bucket;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
      return;
    } catch (error) {
      const e = error as { $metadata?: { httpStatusCode?: number }; name?: string };
      // Credentials that may write objects but not inspect the bucket: let the put decide.
      if (e.$metadata?.httpStatusCode !== 404) {
        const classified = classify(error, this.#context("check bucket"));
        if (classified instanceof PermissionDeniedError) return;
        throw classified;
      }
    }
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === "BucketAlreadyOwnedByYou") return;
      const classified = classify(error, this.#context("create bucket"));
      if (classified instanceof PermissionDeniedError) {
        throw new PermissionDeniedError(
          `Cannot create bucket "${bucket}" for writing: permission denied (${classified.message})`,
          { store: String(this), cause: classified },
        );
      }
      throw classified;
    }
  }

  /** Deletes `key`; a missing key is not an error */
  async delete(key: string, options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    checkKey(key, String(this));
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#options.bucket, Key: key }),
        { abortSignal: options.signal },
      );
    } catch (error) {
      const classified = classify(error, this.#context("delete", key));
      if (classified instanceof NotFoundError) return;
      throw classified;
    }
  }

  /**
   * Deletes `keys` with DeleteObjects, `deleteBatchSize` (1000) keys a
   * request, one request after another. Missing keys are not errors. (Swift
   * s3api deletes about 30 keys a second, one by one, whatever the batching.)
   *
   * @param keys The keys.
   * @param options Signal.
   * @returns The keys the server refused to delete, with the reason.
   * @throws {StoreError} When a whole request fails (e.g. permission denied).
   */
  async deleteMany(
    keys: string[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<{ key: string; error: Error }[]> {
    for (const key of keys) checkKey(key, String(this));
    const failures: { key: string; error: Error }[] = [];
    for (let start = 0; start < keys.length; start += this.#deleteBatch) {
      const batch = keys.slice(start, start + this.#deleteBatch);
      try {
        const r = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#options.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
          { abortSignal: options.signal },
        );
        for (const failed of r.Errors ?? []) {
          if (failed.Code === "NoSuchKey") continue;
          const error = classify(
            Object.assign(new Error(failed.Message ?? failed.Code ?? "failed"), {
              name: failed.Code ?? "Error",
            }),
            this.#context("delete", failed.Key),
          );
          failures.push({ key: failed.Key ?? "", error });
        }
      } catch (error) {
        const classified = classify(
          error,
          this.#context(`delete ${batch.length} keys (from ${start}) in`, batch[0]),
        );
        if (classified instanceof NotFoundError) continue;
        throw classified;
      }
    }
    return failures;
  }

  /**
   * Copies `from` to `to` inside the bucket without moving the bytes through
   * us: CopyObject up to `copyThresholdBytes`, UploadPartCopy parts above
   * (aborted on failure; removed again when the source changed meanwhile).
   *
   * @param from Source key.
   * @param to Destination key.
   * @param options Signal.
   * @throws {NotFoundError} When `from` is missing.
   */
  async copyWithin(
    from: string,
    to: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    checkKey(from, String(this));
    checkKey(to, String(this));
    const source = await this.head(from, options);
    const copySource = `${encodeURIComponent(this.#options.bucket)}/${encodeKeyPath(from)}`;
    try {
      if (source.size > this.#copyThreshold) {
        await this.#copyInParts(source, to, copySource, options.signal);
        return;
      }
      await this.#client.send(
        new CopyObjectCommand({ Bucket: this.#options.bucket, Key: to, CopySource: copySource }),
        { abortSignal: options.signal },
      );
    } catch (error) {
      throw classify(error, this.#context(`copy to "${to}" from`, from));
    }
  }

  /** UploadPartCopy of byte ranges, `putMaxConcurrency` at a time; aborted on failure. */
  async #copyInParts(
    source: ObjectMeta,
    to: string,
    copySource: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const Bucket = this.#options.bucket;
    const { UploadId } = await this.#client.send(
      new CreateMultipartUploadCommand({ Bucket, Key: to, ContentType: source.contentType }),
      { abortSignal: signal },
    );
    const partSize = s3PartSizeFor(source.size, this.#copyPartSize);
    const count = Math.ceil(source.size / partSize);
    const parts: { PartNumber: number; ETag: string | undefined }[] = new Array(count);
    let next = 0;
    const copyNext = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        const start = index * partSize;
        const end = Math.min(source.size, start + partSize) - 1;
        const r = await this.#client.send(
          new UploadPartCopyCommand({
            Bucket,
            Key: to,
            UploadId,
            PartNumber: index + 1,
            CopySource: copySource,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
          { abortSignal: signal },
        );
        parts[index] = { PartNumber: index + 1, ETag: r.CopyPartResult?.ETag };
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, count) }, copyNext));
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: to,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket, Key: to, UploadId }))
        .catch(() => {});
      throw error;
    }
    // Parts copied from a source that changed meanwhile would mix two versions.
    // (x-amz-copy-source-if-match would say so per part, but Swift's s3api refuses it.)
    const after = await this.head(source.key, { signal });
    if (after.etag !== source.etag || after.size !== source.size) {
      await this.delete(to).catch(() => {});
      throw new ConflictError(
        `"${source.key}" changed while it was copied to "${to}": the copy was removed`,
        { store: String(this), key: to },
      );
    }
  }

  /**
   * Every object under `prefix` (all pages), in key order
   * Pages through ListObjectsV2 with continuation tokens, `listingPageSize`
   * keys a page; within a page objects and common prefixes are merged in key
   * order.
   */
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#options.bucket,
            Prefix: prefix === "" ? undefined : prefix,
            Delimiter: options.delimiter || undefined,
            MaxKeys: this.#options.listingPageSize,
            ContinuationToken: token,
          }),
          { abortSignal: options.signal },
        );
      } catch (error) {
        throw classify(error, this.#context("list", prefix));
      }
      const entries: ListEntry[] = [];
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        entries.push({
          kind: "object",
          key: o.Key,
          size: o.Size ?? 0,
          etag: normalizeEtag(o.ETag),
          lastModified: o.LastModified,
        });
      }
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix !== undefined) entries.push({ kind: "prefix", prefix: p.Prefix });
      }
      entries.sort((a, b) =>
        compareKeys(a.kind === "object" ? a.key : a.prefix, b.kind === "object" ? b.key : b.prefix)
      );
      yield* entries;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `S3Store(s3://bucket)`, with the endpoint when one is set; never a secret.
   */
  toString(): string {
    const at = this.#options.endpoint ? ` at ${redact(this.#options.endpoint)}` : "";
    return `S3Store(s3://${this.#options.bucket}${at})`;
  }
}

/** Counts the bytes passing through and, when `expected` is given, enforces it. */
class MeasureStream extends TransformStream<Uint8Array, Uint8Array> {
  bytes = 0;
  failure: Error | undefined;

  constructor(expected: number | undefined, key: string) {
    super({
      transform: (chunk, controller) => {
        this.bytes += chunk.byteLength;
        if (expected !== undefined && this.bytes > expected) {
          this.failure = new RangeError(
            `Body of "${key}" is longer than its declared size of ${expected} bytes`,
          );
          controller.error(this.failure);
          return;
        }
        controller.enqueue(chunk);
      },
      flush: (controller) => {
        if (expected !== undefined && this.bytes !== expected) {
          this.failure = new RangeError(
            `Body of "${key}" ended after ${this.bytes} of its declared ${expected} bytes`,
          );
          controller.error(this.failure);
        }
      },
    });
  }
}

/** The piece size parts are streamed in. */
const PART_PIECE_BYTES = 256 * 1024;

function* piecesOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    yield bytes.subarray(offset, Math.min(bytes.byteLength, offset + size));
  }
}

const sdkClients = new WeakMap<S3Store, S3Client>();

/**
 * The SDK client under an `S3Store`: an escape hatch for what the store does
 * not cover (kept off the store's own interface, so the SDK's types stay out
 * of ferry's public API).
 *
 * @param store The store.
 * @returns Its SDK client.
 */
export function s3ClientOf(store: S3Store): S3Client {
  return sdkClients.get(store)!;
}

/**
 * Reads a stream in parts of one size, each into a buffer of its own (the
 * last may be shorter), splitting pieces that straddle two parts.
 */
class PartReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #partSize: number;
  #pending: Uint8Array | undefined;
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>, partSize: number) {
    this.#reader = stream.getReader();
    this.#partSize = partSize;
  }

  /** The next part, or undefined at the end. */
  async next(): Promise<Uint8Array | undefined> {
    const part = new Uint8Array(this.#partSize);
    let filled = 0;
    while (filled < this.#partSize) {
      let piece = this.#pending;
      this.#pending = undefined;
      if (piece === undefined) {
        if (this.#ended) break;
        const r = await this.#reader.read();
        if (r.done) {
          this.#ended = true;
          break;
        }
        piece = r.value;
      }
      const n = Math.min(piece.byteLength, this.#partSize - filled);
      part.set(n === piece.byteLength ? piece : piece.subarray(0, n), filled);
      filled += n;
      if (n < piece.byteLength) this.#pending = piece.subarray(n);
    }
    if (filled === 0) return undefined;
    return filled === this.#partSize ? part : part.slice(0, filled);
  }

  /** Whether nothing is left (reads one piece ahead to know). */
  async atEnd(): Promise<boolean> {
    if (this.#pending !== undefined) return false;
    if (this.#ended) return true;
    const r = await this.#reader.read();
    if (r.done) {
      this.#ended = true;
      return true;
    }
    this.#pending = r.value;
    return false;
  }

  async cancel(reason: unknown): Promise<void> {
    await this.#reader.cancel(reason).catch(() => {});
  }
}

function md5Base64(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("base64");
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`Invalid ${name} ${v}: expected an integer >= 1`);
  }
  return v;
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}
