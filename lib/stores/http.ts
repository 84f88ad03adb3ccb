/**
 * A read-only store over plain HTTP(S) with `fetch`: HEAD, GET and ranged GET.
 *
 * Keys are URL paths as they appear in hrefs. Valid `%XX` escapes pass
 * through unchanged (so the key `a%20b.tif` fetches the object a server calls
 * `a b.tif`), and every character a URL path cannot hold literally (space,
 * non-ASCII, `?`, `#`, a `%` that does not start an escape, …) is
 * percent-encoded. An object whose name really contains `%20` must therefore
 * be addressed as `%2520`, as in any URL.
 *
 * Listing is not possible over plain HTTP: `list()` throws
 * `NotSupportedError` (an empty listing would look like "nothing there").
 *
 * @module
 */
import {
  errorFromStatus,
  isRuntimePermissionFailure,
  isTransportFailure,
  NotSupportedError,
  PermissionDeniedError,
  StoreError,
  TransientError,
} from "./errors.ts";
import { redact } from "./redact.ts";
import { contentLengthOf, guardBody } from "./_body.ts";
import type {
  ByteRange,
  GetOptions,
  ListEntry,
  ObjectMeta,
  ObjectStore,
  PutResult,
} from "./store.ts";
import { checkRange, httpRangeHeader, normalizeEtag } from "./store.ts";

/** Options of {@linkcode HttpStore}. */
export interface HttpStoreOptions {
  /**
   * `scheme://host[:port]`, or a whole URL: keys are appended below its path,
   * and the key `""` fetches the URL itself (how a location with a query
   * string, e.g. a presigned URL, is opened).
   */
  baseUrl: string;
  /** Extra request headers (e.g. `Authorization`); never shown in errors. */
  headers?: Record<string, string>;
}

/** Statuses on HEAD that send us to a 1-byte ranged GET instead. */
const HEAD_REFUSED = new Set([403, 405, 501]);

/**
 * Percent-encodes what a URL path cannot hold literally, keeping valid
 * `%XX` escapes and `/` as they are.
 *
 * @example Keys from hrefs and plain names
 * ```ts
 * import { keyToUrlPath } from "./http.ts";
 * import { equal } from "node:assert/strict";
 * equal(keyToUrlPath("a%20b/c.tif"), "a%20b/c.tif");
 * equal(keyToUrlPath("a b/100%.csv"), "a%20b/100%25.csv");
 * equal(keyToUrlPath("q?x#y&z=1+2"), "q%3Fx%23y&z=1+2");
 * equal(keyToUrlPath("日本"), "%E6%97%A5%E6%9C%AC");
 * ```
 *
 * @param key The key.
 * @returns A URL path (without a leading `/`).
 */
export function keyToUrlPath(key: string): string {
  return key.replace(
    /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu,
    (c) => encodeURIComponent(c),
  );
}

/**
 * Read-only store over plain HTTP(S). `head` uses HEAD, and where HEAD is
 * refused (403/405/501, as for presigned GET URLs) or reports no size, a
 * `Range: bytes=0-0` GET whose `Content-Range` gives the size. `get` honours
 * byte ranges even against servers that ignore `Range` and answer 200 (the
 * body is cut to the requested bytes). `put`, `delete` and `list` throw
 * `NotSupportedError`. Error messages show URLs with any query string
 * replaced by `?REDACTED`.
 *
 * @example Writing is refused
 * ```ts
 * import { HttpStore } from "./http.ts";
 * import { NotSupportedError } from "./errors.ts";
 * import { rejects, equal } from "node:assert/strict";
 * const store = new HttpStore({ baseUrl: "https://example.com/data?sig=secret" });
 * equal(String(store), "HttpStore(https://example.com/data?REDACTED)");
 * await rejects(store.put("a", new Blob([]).stream()), NotSupportedError);
 * ```
 */
export class HttpStore implements ObjectStore {
  readonly #base: URL;
  readonly #headers: Record<string, string>;

  /**
   * Creates a `HttpStore`
   *
   * @param options Base URL and headers.
   * @throws {TypeError} When `baseUrl` is not an http(s) URL.
   */
  constructor(options: HttpStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`Invalid base URL "${safeUrl(options.baseUrl)}": not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Invalid base URL "${safeUrl(options.baseUrl)}": expected http or https`);
    }
    this.#base = url;
    this.#headers = { ...options.headers };
  }

  /**
   * The URL of `key`: the base URL itself for `""`, else the key's URL path
   * below the base URL's path (its query string kept).
   *
   * @param key The key.
   * @returns The absolute URL (which may carry a signed query string).
   */
  urlOf(key: string): string {
    if (key === "") return this.#base.href;
    const path = this.#base.pathname.replace(/\/$/, "");
    return `${this.#base.origin}${path}/${keyToUrlPath(key)}${this.#base.search}`;
  }

  async #fetch(
    op: string,
    key: string,
    init: { method: string; range?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<Response> {
    const url = this.urlOf(key);
    const headers = { ...this.#headers, ...(init.range ? { Range: init.range } : {}) };
    try {
      return await fetch(url, { method: init.method, headers, signal: init.signal });
    } catch (error) {
      if (error instanceof Error && error.name === "AbortError") throw error;
      // Deno's fetch says "fetch failed"; the cause tells what (and names the URL).
      const cause = error instanceof Error ? error.cause : undefined;
      const detail = [error, cause].filter((e) => e instanceof Error).map((e) => e.message);
      const reason = scrub(detail.length ? detail.join(": ") : String(error), url);
      const message = `Cannot ${op} "${safeUrl(url)}": ${reason}`;
      const options = { store: String(this), key, cause: new Error(message) };
      if (isRuntimePermissionFailure(error)) throw new PermissionDeniedError(message, options);
      throw isTransportFailure(error) || isTransportFailure(cause)
        ? new TransientError(message, options)
        : new StoreError(message, options);
    }
  }

  #fail(op: string, key: string, response: Response): StoreError {
    void response.body?.cancel().catch(() => {});
    const url = this.urlOf(key);
    return errorFromStatus(
      response.status,
      `Cannot ${op} "${safeUrl(url)}": HTTP ${response.status} ${response.statusText}`.trimEnd(),
      { store: String(this), key, retryAfter: response.headers.get("retry-after") },
    );
  }

  /** Facts about one object; throws `NotFoundError` when it is missing */
  async head(key: string, options: { signal?: AbortSignal | undefined } = {}): Promise<ObjectMeta> {
    const response = await this.#fetch("head", key, { method: "HEAD", signal: options.signal });
    void response.body?.cancel().catch(() => {});
    const length = response.headers.get("content-length");
    if (response.ok && length !== null && /^\d+$/.test(length)) {
      return metaOf(key, Number(length), response.headers);
    }
    if (!response.ok && !HEAD_REFUSED.has(response.status)) {
      throw this.#fail("head", key, response);
    }
    // HEAD refused (e.g. a URL presigned for GET) or without a size: ask for one byte.
    const ranged = await this.#fetch("head", key, {
      method: "GET",
      range: "bytes=0-0",
      signal: options.signal,
    });
    void ranged.body?.cancel().catch(() => {});
    const total = totalOf(ranged.headers.get("content-range"));
    if ((ranged.status === 206 || ranged.status === 416) && total !== undefined) {
      return metaOf(key, total, ranged.headers);
    }
    if (ranged.status === 200) {
      const whole = ranged.headers.get("content-length");
      if (whole !== null && /^\d+$/.test(whole)) return metaOf(key, Number(whole), ranged.headers);
    }
    if (!ranged.ok) throw this.#fail("head", key, ranged);
    throw new StoreError(
      `Cannot head "${safeUrl(this.urlOf(key))}": the server reports no size`,
      { store: String(this), key },
    );
  }

  /**
   * The object's bytes, whole or a range, as a web stream
   * An empty range yields an empty stream without a request; a range past
   * the end (416) yields an empty stream; a 200 answer to a ranged request is
   * cut to the requested bytes while streaming.
   */
  async get(key: string, options: GetOptions = {}): Promise<ReadableStream<Uint8Array>> {
    let range: string | undefined;
    if (options.range) {
      checkRange(options.range);
      range = httpRangeHeader(options.range);
      if (range === undefined) return emptyStream();
    }
    const response = await this.#fetch("get", key, {
      method: "GET",
      range,
      signal: options.signal,
    });
    if (range && response.status === 416) {
      void response.body?.cancel().catch(() => {});
      return emptyStream();
    }
    if (!response.ok) throw this.#fail("get", key, response);
    const body = response.body
      ? guardBody(response.body, {
        what: `GET "${safeUrl(this.urlOf(key))}"`,
        expectedBytes: contentLengthOf(response.headers),
        store: String(this),
        key,
        signal: options.signal,
      })
      : emptyStream();
    if (!options.range || response.status === 206) {
      if (options.range && "offset" in options.range) {
        const start = startOf(response.headers.get("content-range"));
        if (start !== undefined && start !== options.range.offset) {
          void body.cancel().catch(() => {});
          throw new StoreError(
            `Cannot get "${
              safeUrl(this.urlOf(key))
            }": asked for bytes from ${options.range.offset}, the server sent from ${start}`,
            { store: String(this), key },
          );
        }
      }
      return body;
    }
    // The server ignored Range and sent the whole object.
    const length = response.headers.get("content-length");
    const total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    return sliceStream(body, options.range, total);
  }

  /**
   * Not possible over plain HTTP.
   *
   * @param key The key.
   * @throws {NotSupportedError} Always.
   */
  put(key: string, body?: ReadableStream<Uint8Array>): Promise<PutResult> {
    void body?.cancel().catch(() => {});
    return Promise.reject(
      new NotSupportedError(
        `Cannot put "${safeUrl(this.urlOf(key))}": http(s) stores are read-only`,
        {
          store: String(this),
          key,
        },
      ),
    );
  }

  /**
   * Not possible over plain HTTP.
   *
   * @param key The key.
   * @throws {NotSupportedError} Always.
   */
  delete(key: string): Promise<void> {
    return Promise.reject(
      new NotSupportedError(
        `Cannot delete "${safeUrl(this.urlOf(key))}": http(s) stores are read-only`,
        { store: String(this), key },
      ),
    );
  }

  /**
   * Not possible over plain HTTP: there is no listing protocol.
   *
   * @param prefix The prefix.
   * @throws {NotSupportedError} On iteration.
   */
  // deno-lint-ignore require-yield
  async *list(prefix: string): AsyncIterable<ListEntry> {
    throw new NotSupportedError(
      `Cannot list "${safeUrl(this.urlOf(prefix))}": http(s) stores have no listing`,
      { store: String(this), key: prefix },
    );
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `HttpStore(baseUrl)`, any query string replaced by `?REDACTED`.
   */
  toString(): string {
    return `HttpStore(${safeUrl(this.#base.href.replace(/\/$/, ""))})`;
  }
}

/** A URL fit for messages: no user info, query string replaced. */
function safeUrl(url: string): string {
  const q = url.indexOf("?");
  const withoutQuery = q === -1 ? url : `${url.slice(0, q)}?REDACTED`;
  return redact(withoutQuery);
}

/** Removes `url`'s query string wherever it appears in `text`. */
function scrub(text: string, url: string): string {
  let out = text;
  const q = url.indexOf("?");
  if (q !== -1) out = out.split(url.slice(q)).join("?REDACTED");
  return redact(out);
}

function metaOf(key: string, size: number, headers: Headers): ObjectMeta {
  const etag = headers.get("etag");
  const modified = headers.get("last-modified");
  const date = modified ? new Date(modified) : undefined;
  return {
    key,
    size,
    etag: normalizeEtag(etag),
    lastModified: date && !Number.isNaN(date.getTime()) ? date : undefined,
    contentType: headers.get("content-type") ?? undefined,
  };
}

/** The total of `bytes 0-0/123` or `bytes *\/123`. */
function totalOf(contentRange: string | null): number | undefined {
  const m = contentRange ? /\/(\d+)\s*$/.exec(contentRange) : null;
  return m ? Number(m[1]) : undefined;
}

function startOf(contentRange: string | null): number | undefined {
  const m = contentRange ? /^\s*bytes\s+(\d+)-/i.exec(contentRange) : null;
  return m ? Number(m[1]) : undefined;
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}

/**
 * Cuts a whole-object body to `range` while streaming. A suffix range over a
 * body of unknown length keeps only the last `suffix` bytes in memory.
 */
function sliceStream(
  body: ReadableStream<Uint8Array>,
  range: ByteRange,
  total: number | undefined,
): ReadableStream<Uint8Array> {
  if ("suffix" in range && total === undefined) return lastBytes(body, range.suffix);
  const start = "suffix" in range ? Math.max(0, total! - range.suffix) : range.offset;
  const end = "suffix" in range || range.length === undefined
    ? Infinity
    : range.offset + range.length;
  const reader = body.getReader();
  let position = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (position >= end) {
          await reader.cancel().catch(() => {});
          controller.close();
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        const chunkStart = position;
        position += value.byteLength;
        const from = Math.max(0, start - chunkStart);
        const to = Math.min(value.byteLength, end - chunkStart);
        if (from < to) {
          controller.enqueue(value.subarray(from, to));
          return;
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function lastBytes(body: ReadableStream<Uint8Array>, n: number): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const tail = new Uint8Array(n);
      let filled = 0;
      for await (const chunk of body) {
        const c = chunk.byteLength >= n ? chunk.subarray(chunk.byteLength - n) : chunk;
        const keep = Math.min(filled, n - c.byteLength);
        tail.copyWithin(0, filled - keep, filled);
        tail.set(c, keep);
        filled = keep + c.byteLength;
      }
      if (filled > 0) controller.enqueue(tail.slice(0, filled));
      controller.close();
    },
  });
}
