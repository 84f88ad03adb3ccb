/**
 * The native OpenStack Swift driver: objects over `fetch`, SLO for large
 * objects, bulk delete, conditional create, server-side copy.
 *
 * Large objects: a body larger than `segmentSizeBytes` (or of unknown size
 * that turns out larger than one segment) is uploaded as Static Large Object
 * segments into the container `<container>_segments` (python-swiftclient's
 * convention, so `swift` sees them as ferry's and container listings stay
 * clean), named `<key>/slo/<upload id>/<index, 8 digits>`. Each segment's MD5
 * is checked against its ETag; the manifest is written last, so the key never
 * shows a partial object; on failure the uploaded segments are deleted.
 * Overwriting or deleting an SLO object removes its old segments.
 *
 * @module
 */
import {
  ConflictError,
  InvalidInputError,
  isTransportFailure,
  NotFoundError,
  NotSupportedError,
  PermissionDeniedError,
  StoreError,
  TransientError,
} from "../errors.ts";
import { createHash } from "node:crypto";
import { checkKey } from "../_keys.ts";
import { encodeKeyPath } from "../location.ts";
import {
  type BulkDeleter,
  checkRange,
  type ConditionalPutter,
  type GetOptions,
  httpRangeHeader,
  type ListEntry,
  type ListOptions,
  normalizeEtag,
  type ObjectMeta,
  type ObjectStore,
  type PutBufferReporter,
  type PutChecker,
  type PutCondition,
  type PutOptions,
  type PutResult,
  resolveRange,
  type ServerCopier,
  type UrlProvider,
} from "../store.ts";
import { type SwiftAuthOptions, swiftSession } from "./auth.ts";
import { ChunkReader, measured } from "./_chunks.ts";
import { withRetry } from "../retry_store.ts";
import { classify, describe, SwiftClient, type SwiftRequest } from "./client.ts";
import { contentLengthOf, guardBody } from "../_body.ts";

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

const GIB = 1024 ** 3;
/** Bodies of unknown size, or known to be this small, are read ahead and sent in one request with their MD5. */
const LOOKAHEAD_BYTES = 8 * 1024 * 1024;
/** Swift's default `max_manifest_segments`. */
const MAX_SEGMENTS = 1000;
/** Keys per bulk-delete request (Swift's default limit is 10000). */
const BULK_DELETE_BATCH = 1000;
/** Bulk-delete requests in flight at once (Swift deletes one request's keys one by one). */
const BULK_DELETE_CONCURRENCY = 8;
/** Below this many keys a batch is not split further. */
const BULK_DELETE_MIN_BATCH = 100;

type Signal = { signal?: AbortSignal | undefined };

interface SwiftListing {
  name?: string;
  subdir?: string;
  bytes?: number;
  hash?: string;
  last_modified?: string;
  content_type?: string;
  slo_etag?: string;
}

interface BulkDeleteAnswer {
  "Response Status"?: string;
  "Response Body"?: string;
  Errors?: [string, string][];
}

const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

/**
 * A Swift container spoken to natively, with TempAuth or a pre-authenticated
 * token (one shared session per credentials, renewed on 401).
 *
 * `putIf` supports `{ ifNoneMatch: "*" }` natively (not exclusive between
 * concurrent creators, see `exclusiveCreate`); `{ ifMatch }` throws
 * `NotSupportedError`, because Swift has no `If-Match` on PUT and a
 * HEAD-then-PUT emulation would silently lose the race it exists to prevent.
 *
 * @example Writing and reading an object
 * ```ts ignore
 * import { SwiftObjectStore } from "./store.ts";
 * import { getBytes, putBytes } from "../ext.ts";
 * const store = new SwiftObjectStore({
 *   container: "data",
 *   auth: { authUrl: "http://127.0.0.1:8080/auth/v1.0", user: "test:tester", key: "testing" },
 * });
 * await putBytes(store, "a/b.txt", new TextEncoder().encode("hi"));
 * console.log(await getBytes(store, "a/b.txt"));
 * ```
 */
export class SwiftObjectStore
  implements
    ObjectStore,
    BulkDeleter,
    ConditionalPutter,
    ServerCopier,
    UrlProvider,
    PutChecker,
    PutBufferReporter {
  /** Every put compares Swift's ETag (per segment for SLOs) with the MD5 of the bytes sent. */
  readonly putCheck = "verified" as const;
  /**
   * Swift checks `If-None-Match: *` when a PUT starts, not when it commits:
   * concurrent creators of one key may all succeed (the last write wins).
   */
  readonly exclusiveCreate = false;
  /** The wire client (shared session). */
  readonly client: SwiftClient;
  /** The container. */
  readonly container: string;
  /** Where SLO segments go: `<container>_segments`. */
  readonly segmentContainer: string;
  readonly #segmentSize: number;
  readonly #pageSize: number;
  readonly #auth: SwiftAuthOptions;
  readonly #known = new Set<string>();

  /**
   * Creates a `SwiftObjectStore`
   *
   * @param options Container, auth, segment size, listing page size.
   * @throws {RangeError} On a segment or page size that is not a positive integer.
   */
  constructor(options: SwiftObjectStoreOptions) {
    if (!options.container || options.container.includes("/")) {
      throw new TypeError(`Invalid Swift container name "${options.container}"`);
    }
    this.container = options.container;
    this.segmentContainer = `${options.container}_segments`;
    this.#auth = options.auth;
    this.#segmentSize = options.segmentSizeBytes ?? GIB;
    this.#pageSize = options.listingPageSize ?? 10_000;
    for (
      const [name, value] of [["segmentSizeBytes", this.#segmentSize], [
        "listingPageSize",
        this.#pageSize,
      ]] as const
    ) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`Invalid ${name} ${value}: expected a positive integer`);
      }
    }
    this.client = new SwiftClient(swiftSession(options.auth));
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `SwiftObjectStore(swift://container)`.
   */
  toString(): string {
    return `SwiftObjectStore(swift://${this.container})`;
  }

  #error(response: Response, operation: string, key?: string, container = this.container) {
    return classify(response, { operation, container, key, store: this.toString() });
  }

  /** A JSON answer; a body the network cut off is a {@linkcode TransientError}. */
  async #json<T>(
    response: Response,
    operation: string,
    key?: string,
    container = this.container,
  ): Promise<T> {
    try {
      return await response.json() as T;
    } catch (error) {
      if (!isTransportFailure(error)) throw error;
      throw new TransientError(
        `Swift ${operation} ${describe({ container, key })} broke off: ${(error as Error).message}`,
        { store: this.toString(), key, cause: error },
      );
    }
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  async head(key: string, options: { signal?: AbortSignal | undefined } = {}): Promise<ObjectMeta> {
    checkKey(key, this.toString());
    const response = await this.client.request({
      method: "HEAD",
      container: this.container,
      key,
      signal: options.signal,
    });
    if (!response.ok) throw await this.#error(response, "HEAD", key);
    const length = response.headers.get("content-length");
    if (length === null || !/^\d+$/.test(length)) {
      // Not a 0-byte object: an answer (from a proxy, say) that does not tell the size.
      throw new StoreError(
        `Swift HEAD ${
          describe({ container: this.container, key })
        } answered without a size (Content-Length ${length === null ? "missing" : `"${length}"`})`,
        { store: this.toString(), key },
      );
    }
    return metaOf(key, Number(length), response.headers);
  }

  /** The object's bytes, whole or a range, as a web stream */
  async get(key: string, options: GetOptions = {}): Promise<ReadableStream<Uint8Array>> {
    checkKey(key, this.toString());
    const headers: Record<string, string> = {};
    if (options.range) {
      checkRange(options.range);
      const range = httpRangeHeader(options.range);
      if (range === undefined) return empty();
      headers.Range = range;
    }
    const response = await this.client.request({
      method: "GET",
      container: this.container,
      key,
      headers,
      signal: options.signal,
    });
    if (response.status === 416) {
      await response.body?.cancel();
      return empty();
    }
    if (!response.ok) throw await this.#error(response, "GET", key);
    const body = response.body
      ? guardBody(response.body, {
        what: `Swift GET ${describe({ container: this.container, key })}`,
        expectedBytes: contentLengthOf(response.headers),
        store: this.toString(),
        key,
        signal: options.signal,
      })
      : empty();
    if (options.range && response.status === 200) {
      const size = Number(response.headers.get("content-length") ?? NaN);
      if (Number.isFinite(size)) {
        const [start, end] = resolveRange(options.range, size);
        return body.pipeThrough(slice(start, end));
      }
    }
    return body;
  }

  /**
   * A body of unknown size, or small enough to be one request, is read ahead
   * (up to 8 MiB) to choose between a single PUT and segments; larger bodies
   * and their segments stream without being held.
   */
  putBufferBytes(size: number | undefined): number {
    const lookahead = Math.min(this.#segmentSize, LOOKAHEAD_BYTES) + 1;
    if (size === undefined) return lookahead;
    return size <= LOOKAHEAD_BYTES ? Math.min(size, lookahead) : 0;
  }

  /** Writes the stream to `key` atomically: readers see the old object or the whole new one */
  put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    return this.#put(key, body, options, {});
  }

  /**
   * Like `put`, but fails with `ConflictError` when the condition does not hold.
   * Only `{ ifNoneMatch: "*" }` is supported (Swift's `If-None-Match: *`).
   *
   * @param key The key.
   * @param body The bytes.
   * @param condition The precondition.
   * @param options Size, content type, signal.
   * @returns Size and ETag.
   * @throws {NotSupportedError} For `{ ifMatch }`: Swift has no `If-Match` on PUT.
   */
  putIf(
    key: string,
    body: ReadableStream<Uint8Array>,
    condition: PutCondition,
    options: PutOptions = {},
  ): Promise<PutResult> {
    if (!("ifNoneMatch" in condition) || condition.ifNoneMatch !== "*") {
      return body.cancel().then(() => {
        throw new NotSupportedError(
          `Swift cannot write "${key}" only if it matches an ETag: Swift has no If-Match on PUT`,
          { store: this.toString(), key },
        );
      });
    }
    return this.#put(key, body, options, { "If-None-Match": "*" });
  }

  async #put(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: PutOptions,
    conditions: Record<string, string>,
  ): Promise<PutResult> {
    try {
      checkKey(key, this.toString());
      if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
        throw new RangeError(`Invalid size ${options.size} for "${key}"`);
      }
    } catch (error) {
      await body.cancel(error).catch(() => {});
      throw error;
    }
    // Looking up the old segments is idempotent: retried on its own, so a
    // passing failure does not cost the whole upload an attempt.
    const oldSegments = await withRetry(() => this.#sloSegments(key, options.signal), {
      signal: options.signal,
    });
    const result = await this.#write(key, body, options, conditions);
    if (oldSegments.length > 0) await this.#deletePaths(oldSegments, options.signal);
    return result;
  }

  async #write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: PutOptions,
    conditions: Record<string, string>,
  ): Promise<PutResult> {
    const size = options.size;
    const contentType = options.contentType ?? "application/octet-stream";
    const reader = new ChunkReader(body);
    let segmentSize = this.#segmentSize;
    if (size === undefined || size <= segmentSize) {
      // A known size above the look-ahead streams at once, holding nothing back.
      if (size === undefined || size <= LOOKAHEAD_BYTES) {
        const ahead = await reader.peek(Math.min(segmentSize, LOOKAHEAD_BYTES) + 1).catch(
          async (error) => {
            await reader.cancel(error);
            throw error;
          },
        );
        if (ahead.ended) {
          if (size !== undefined && ahead.bytes.byteLength !== size) {
            throw new RangeError(
              `Body of "${key}" ended after ${ahead.bytes.byteLength} bytes: expected ${size}`,
            );
          }
          return await this.#putBytes(key, ahead.bytes, contentType, conditions, options.signal);
        }
      }
      if (size !== undefined) {
        return await this.#putStream(this.container, key, reader.take(size + 1), {
          size,
          contentType,
          headers: conditions,
          signal: options.signal,
        });
      }
    } else {
      segmentSize = Math.max(segmentSize, Math.ceil(size / MAX_SEGMENTS));
    }
    return await this.#putSegmented(key, reader, segmentSize, {
      size,
      contentType,
      conditions,
      signal: options.signal,
    });
  }

  async #putBytes(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    conditions: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<PutResult> {
    const md5 = createHash("md5").update(bytes).digest("hex");
    const response = await this.#send({
      method: "PUT",
      container: this.container,
      key,
      body: bytes,
      headers: { "Content-Type": contentType, ETag: md5, ...conditions },
      signal,
    }, true);
    if (!response.ok) throw await this.#putError(response, key);
    await response.body?.cancel();
    return { etag: normalizeEtag(response.headers.get("etag")) ?? md5, size: bytes.byteLength };
  }

  async #putError(response: Response, key: string, container = this.container) {
    if (response.status === 412) {
      await response.body?.cancel();
      return new ConflictError(
        `Swift object "${container}/${key}" already exists (If-None-Match: *)`,
        { store: this.toString(), key },
      );
    }
    return await this.#error(response, "PUT", key, container);
  }

  /** Streams `body` into one object, checking its size and MD5. */
  async #putStream(
    container: string,
    key: string,
    body: ReadableStream<Uint8Array>,
    options: {
      size?: number | undefined;
      contentType: string;
      headers: Record<string, string>;
      signal: AbortSignal | undefined;
    },
  ): Promise<PutResult> {
    const { stream, measure } = measured(body, options.size);
    let response: Response;
    try {
      response = await this.#send({
        method: "PUT",
        container,
        key,
        body: stream,
        headers: { "Content-Type": options.contentType, ...options.headers },
        signal: options.signal,
      }, false);
    } catch (error) {
      await stream.cancel(error).catch(() => {});
      throw measure.error ?? error;
    }
    if (measure.error) {
      await response.body?.cancel();
      throw measure.error;
    }
    if (!response.ok) {
      await stream.cancel().catch(() => {});
      throw await this.#putError(response, key, container);
    }
    await response.body?.cancel();
    const md5 = measure.md5.digest("hex");
    const etag = normalizeEtag(response.headers.get("etag"));
    if (etag !== undefined && etag !== md5) {
      throw new TransientError(
        `Swift stored "${container}/${key}" with ETag ${etag}, but the bytes sent have MD5 ${md5}`,
        { store: this.toString(), key },
      );
    }
    return { etag: etag ?? md5, size: measure.size };
  }

  async #putSegmented(
    key: string,
    reader: ChunkReader,
    segmentSize: number,
    options: {
      size: number | undefined;
      contentType: string;
      conditions: Record<string, string>;
      signal: AbortSignal | undefined;
    },
  ): Promise<PutResult> {
    const uploadId = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    const segments: { path: string; key: string; etag: string; size_bytes: number }[] = [];
    let total = 0;
    try {
      for (let index = 0;; index++) {
        if (index > 0 && await reader.atEnd()) break;
        if (index >= MAX_SEGMENTS) {
          throw new RangeError(
            `Object "${key}" needs more than ${MAX_SEGMENTS} segments of ${segmentSize} bytes: raise the segment size`,
          );
        }
        const segmentKey = `${key}/slo/${uploadId}/${String(index).padStart(8, "0")}`;
        const expected = options.size === undefined
          ? undefined
          : Math.min(segmentSize, options.size - total);
        if (expected !== undefined && expected <= 0) {
          throw new RangeError(
            `Body of "${key}" is longer than the expected ${options.size} bytes`,
          );
        }
        const part = await this.#putStream(
          this.segmentContainer,
          segmentKey,
          reader.take(segmentSize),
          {
            size: expected,
            contentType: "application/octet-stream",
            headers: {},
            signal: options.signal,
          },
        );
        segments.push({
          path: `/${this.segmentContainer}/${segmentKey}`,
          key: segmentKey,
          etag: part.etag!,
          size_bytes: part.size,
        });
        total += part.size;
        if (part.size < segmentSize) {
          if (await reader.atEnd()) break;
        }
      }
      if (options.size !== undefined && total !== options.size) {
        throw new RangeError(
          `Body of "${key}" ended after ${total} bytes: expected ${options.size}`,
        );
      }
      if (segments.length === 1) {
        const only = segments[0]!;
        await this.#copy(
          { container: this.segmentContainer, key: only.key },
          key,
          options.conditions,
          options.signal,
        );
        await this.#deletePaths([only.path], options.signal).catch(() => {});
        return { etag: only.etag, size: total };
      }
      const manifest = JSON.stringify(
        segments.map(({ path, etag, size_bytes }) => ({ path, etag, size_bytes })),
      );
      const response = await this.#send({
        method: "PUT",
        container: this.container,
        key,
        query: { "multipart-manifest": "put" },
        body: manifest,
        headers: { "Content-Type": options.contentType, ...options.conditions },
        signal: options.signal,
      }, true);
      if (!response.ok) throw await this.#putError(response, key);
      await response.body?.cancel();
      return { etag: normalizeEtag(response.headers.get("etag")), size: total };
    } catch (error) {
      await reader.cancel(error);
      if (segments.length > 0) {
        await this.#deletePaths(segments.map((s) => s.path)).catch(() => {});
      }
      throw error;
    }
  }

  /** The segment paths of `key` when it is an SLO manifest, else none. */
  async #sloSegments(key: string, signal: AbortSignal | undefined): Promise<string[]> {
    const head = await this.client.request({
      method: "HEAD",
      container: this.container,
      key,
      signal,
    });
    await head.body?.cancel();
    // 403: a write-only user cannot look; then there is nothing it could clean up either
    if (head.status === 404 || head.status === 403) return [];
    if (!head.ok) throw await this.#error(head, "HEAD", key);
    if (!/^true$/i.test(head.headers.get("x-static-large-object") ?? "")) return [];
    const response = await this.client.request({
      method: "GET",
      container: this.container,
      key,
      query: { "multipart-manifest": "get" },
      signal,
    });
    if (response.status === 404) return [];
    if (!response.ok) throw await this.#error(response, "GET manifest of", key);
    const manifest = await this.#json<{ name?: string; sub_slo?: boolean }[]>(
      response,
      "GET manifest of",
      key,
    );
    return manifest.flatMap((s) => s.name ? [s.name] : []);
  }

  /** Sends a write; creates a missing container first (and once after a 404 when replayable). */
  async #send(request: SwiftRequest & { container: string }, replayable: boolean) {
    await this.#ensureContainer(request.container, request.signal);
    const response = await this.client.request(request);
    if (response.status !== 404) return response;
    this.#known.delete(request.container);
    if (!replayable) return response;
    await response.body?.cancel();
    await this.#ensureContainer(request.container, request.signal);
    return await this.client.request(request);
  }

  async #ensureContainer(container: string, signal?: AbortSignal): Promise<void> {
    if (this.#known.has(container)) return;
    const head = await this.client.request({ method: "HEAD", container, signal });
    await head.body?.cancel();
    if (head.ok || head.status === 403) {
      this.#known.add(container);
      return;
    }
    if (head.status !== 404) throw await this.#error(head, "HEAD container", undefined, container);
    const created = await this.client.request({ method: "PUT", container, signal });
    if (created.status === 401 || created.status === 403) {
      await created.body?.cancel();
      throw new PermissionDeniedError(
        `Cannot create Swift container "${container}": ${created.status} ${created.statusText} (not allowed for these credentials)`,
        { store: this.toString() },
      );
    }
    if (!created.ok) throw await this.#error(created, "PUT container", undefined, container);
    await created.body?.cancel();
    this.#known.add(container);
  }

  /** Deletes `key`; a missing key is not an error */
  async delete(key: string, options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    checkKey(key, this.toString());
    const head = await this.client.request({
      method: "HEAD",
      container: this.container,
      key,
      signal: options.signal,
    });
    await head.body?.cancel();
    if (head.status === 404) return;
    if (!head.ok) throw await this.#error(head, "HEAD", key);
    const slo = /^true$/i.test(head.headers.get("x-static-large-object") ?? "");
    const response = await this.client.request({
      method: "DELETE",
      container: this.container,
      key,
      signal: options.signal,
      ...(slo
        ? { query: { "multipart-manifest": "delete" }, headers: { Accept: "application/json" } }
        : {}),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return;
    }
    if (!response.ok) throw await this.#error(response, "DELETE", key);
    if (!slo) {
      await response.body?.cancel();
      return;
    }
    const answer = await this.#json<BulkDeleteAnswer>(response, "DELETE of SLO", key);
    const failure = answer.Errors?.[0];
    if (failure) {
      throw new TransientError(
        `Swift DELETE of SLO "${this.container}/${key}" failed: ${failure[0]}: ${failure[1]}`,
        { store: this.toString(), key },
      );
    }
  }

  /**
   * Deletes many keys with Swift's bulk delete (`POST ?bulk-delete`, up to
   * 1000 keys a request). Missing keys are not errors. SLO segments of
   * deleted keys (in `<container>_segments`) are removed too.
   *
   * @param keys The keys.
   * @param options Cancellation.
   * @returns The keys that failed, with the reason.
   */
  async deleteMany(
    keys: string[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<{ key: string; error: Error }[]> {
    for (const key of keys) checkKey(key, this.toString());
    const byPath = new Map(keys.map((key) => [`/${this.container}/${key}`, key]));
    const failed = await this.#deletePaths([...byPath.keys()], options.signal);
    const out = failed.map(({ path, error }) => ({ key: byPath.get(path) ?? path, error }));
    const failedKeys = new Set(out.map((f) => f.key));
    await this.#deleteOrphanSegments(keys.filter((k) => !failedKeys.has(k)), options.signal);
    return out;
  }

  /**
   * Bulk-deletes `/container/object` paths (unencoded) in batches of at most
   * 1000, a few batches at a time; returns the failures.
   */
  async #deletePaths(
    paths: string[],
    signal?: AbortSignal,
  ): Promise<{ path: string; error: Error }[]> {
    const count = Math.min(
      Math.max(Math.ceil(paths.length / BULK_DELETE_MIN_BATCH), 1),
      BULK_DELETE_CONCURRENCY,
    );
    const size = Math.min(Math.ceil(paths.length / count), BULK_DELETE_BATCH);
    const batches: string[][] = [];
    for (let i = 0; i < paths.length; i += size) batches.push(paths.slice(i, i + size));
    const failures: { path: string; error: Error }[] = [];
    const work = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        failures.push(...await this.#deleteBatch(batch, signal));
      }
    };
    await Promise.all(Array.from({ length: Math.min(count, batches.length) }, work));
    return failures;
  }

  async #deleteBatch(
    batch: string[],
    signal?: AbortSignal,
  ): Promise<{ path: string; error: Error }[]> {
    const failures: { path: string; error: Error }[] = [];
    const body = batch.map((p) => "/" + encodeKeyPath(p.slice(1))).join("\n") + "\n";
    const response = await this.client.request({
      method: "POST",
      query: { "bulk-delete": "true" },
      headers: { "Content-Type": "text/plain", Accept: "application/json" },
      body,
      signal,
    });
    if (!response.ok) {
      const error = await this.#error(response, "bulk delete in");
      return batch.map((path) => ({ path, error }));
    }
    const answer = await this.#json<BulkDeleteAnswer>(response, "bulk delete in");
    const errors = answer.Errors ?? [];
    for (const [path, status] of errors) {
      const decoded = safeDecode(path);
      failures.push({
        path: decoded,
        error: this.#statusError(
          status,
          `Swift bulk delete of "${decoded.slice(1)}" failed: ${status}`,
          decoded,
        ),
      });
    }
    const overall = Number((answer["Response Status"] ?? "200").split(" ")[0]);
    if (errors.length === 0 && overall >= 400) {
      const message = `Swift bulk delete failed: ${answer["Response Status"]}${
        answer["Response Body"] ? `: ${answer["Response Body"]}` : ""
      }`;
      for (const path of batch) {
        failures.push({ path, error: this.#statusError(String(overall), message, path) });
      }
    }
    return failures;
  }

  #statusError(status: string, message: string, path: string): StoreError {
    const code = Number(status.split(" ")[0]);
    const options = { store: this.toString(), key: path.slice(this.container.length + 2) };
    if (code === 409 || code === 412) return new ConflictError(message, options);
    if (code === 401 || code === 403) return new PermissionDeniedError(message, options);
    if (code >= 500 || !Number.isFinite(code)) return new TransientError(message, options);
    return new InvalidInputError(message, options);
  }

  /** Removes segments under `<key>/slo/` of deleted keys from the segment container. */
  async #deleteOrphanSegments(keys: string[], signal?: AbortSignal): Promise<void> {
    if (keys.length === 0) return;
    const deleted = new Set(keys);
    let prefix = keys[0]!;
    for (const k of keys) {
      let n = 0;
      while (n < prefix.length && n < k.length && prefix[n] === k[n]) n++;
      prefix = prefix.slice(0, n);
    }
    const orphans: string[] = [];
    try {
      for await (
        const entry of this.#listIn(this.segmentContainer, prefix, undefined, signal)
      ) {
        if (entry.kind !== "object") continue;
        for (
          let at = entry.key.indexOf("/slo/");
          at !== -1;
          at = entry.key.indexOf("/slo/", at + 1)
        ) {
          if (deleted.has(entry.key.slice(0, at))) {
            orphans.push(`/${this.segmentContainer}/${entry.key}`);
            break;
          }
        }
      }
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    if (orphans.length > 0) await this.#deletePaths(orphans, signal);
  }

  /** Every object under `prefix` (all pages), in key order */
  list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    return this.#listIn(this.container, prefix, options.delimiter, options.signal);
  }

  async *#listIn(
    container: string,
    prefix: string,
    delimiter: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncIterable<ListEntry> {
    let marker = "";
    for (;;) {
      const query: Record<string, string> = {
        format: "json",
        limit: String(this.#pageSize),
      };
      if (prefix) query.prefix = prefix;
      if (delimiter) query.delimiter = delimiter;
      if (marker) query.marker = marker;
      const response = await this.client.request({ method: "GET", container, query, signal });
      if (response.status === 404) {
        await response.body?.cancel();
        throw new NotFoundError(`Swift container "${container}" does not exist`, {
          store: this.toString(),
        });
      }
      if (!response.ok) throw await this.#error(response, "GET listing of", undefined, container);
      const page = response.status === 204
        ? []
        : await this.#json<SwiftListing[]>(response, "GET listing of", undefined, container);
      for (const entry of page) {
        if (entry.subdir !== undefined) {
          if (entry.subdir !== marker) yield { kind: "prefix", prefix: entry.subdir };
        } else if (entry.name !== undefined) {
          yield {
            kind: "object",
            key: entry.name,
            size: entry.bytes ?? 0,
            etag: normalizeEtag(entry.slo_etag ?? null) ?? entry.hash,
            lastModified: entry.last_modified
              ? new Date(
                entry.last_modified.endsWith("Z") ? entry.last_modified : `${entry.last_modified}Z`,
              )
              : undefined,
            contentType: entry.content_type,
          };
        }
      }
      const last = page[page.length - 1];
      if (page.length < this.#pageSize || !last) return;
      marker = last.name ?? last.subdir ?? "";
    }
  }

  /**
   * Copies `from` to `to` inside the container on the server
   * (`PUT` with `X-Copy-From`); an SLO source becomes a plain copy of its bytes.
   *
   * @param from Source key.
   * @param to Destination key.
   * @param options Cancellation.
   */
  async copyWithin(
    from: string,
    to: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    checkKey(from, this.toString());
    checkKey(to, this.toString());
    const oldSegments = from === to ? [] : await this.#sloSegments(to, options.signal);
    await this.#copy({ container: this.container, key: from }, to, {}, options.signal);
    if (oldSegments.length > 0) await this.#deletePaths(oldSegments, options.signal);
  }

  async #copy(
    source: { container: string; key: string },
    to: string,
    conditions: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const response = await this.#send({
      method: "PUT",
      container: this.container,
      key: to,
      body: new Uint8Array(0),
      headers: {
        "X-Copy-From": `/${encodeURIComponent(source.container)}/${encodeKeyPath(source.key)}`,
        ...conditions,
      },
      signal,
    }, true);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new NotFoundError(
        `Swift copy source "${source.container}/${source.key}" does not exist`,
        { store: this.toString(), key: source.key },
      );
    }
    if (!response.ok) throw await this.#putError(response, to);
    await response.body?.cancel();
  }

  /**
   * The object's full URL: `storageUrl/container/encoded-key`. Before the
   * first request of a TempAuth session the storage URL is TempAuth's
   * conventional `<auth origin>/v1/AUTH_<account>`.
   *
   * @param key The key.
   * @returns The URL (no token in it).
   */
  urlOf(key: string): string {
    let storageUrl = this.client.session.knownStorageUrl();
    if (storageUrl === undefined && "authUrl" in this.#auth) {
      storageUrl = `${new URL(this.#auth.authUrl).origin}/v1/AUTH_${this.#auth.user.split(":")[0]}`;
    }
    return `${storageUrl}/${encodeURIComponent(this.container)}/${encodeKeyPath(key)}`;
  }
}

function metaOf(key: string, size: number, headers: Headers): ObjectMeta {
  const lastModified = headers.get("last-modified");
  return {
    key,
    size,
    etag: normalizeEtag(headers.get("etag")),
    lastModified: lastModified ? new Date(lastModified) : undefined,
    contentType: headers.get("content-type") ?? undefined,
  };
}

function slice(start: number, end: number): TransformStream<Uint8Array, Uint8Array> {
  let position = 0;
  return new TransformStream({
    transform(chunk, controller) {
      const from = Math.max(start - position, 0);
      const to = Math.min(end - position, chunk.byteLength);
      position += chunk.byteLength;
      if (to > from) controller.enqueue(chunk.subarray(from, to));
    },
  });
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
