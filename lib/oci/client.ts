/**
 * The distribution API over `fetch`: manifests (GET/HEAD/PUT with `Accept`),
 * blob HEAD and ranged GET, upload sessions (POST, cross-repository mount,
 * PATCH with `Content-Range`, status GET, closing PUT `?digest=`), with the
 * registry's errors mapped onto the store error family and authorization
 * handled by {@linkcode RegistryAuth}.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  errorFromStatus,
  InvalidInputError,
  PermissionDeniedError,
  TransientError,
} from "../stores/errors.ts";
import { type RetryOptions, withRetry } from "../stores/retry_store.ts";
import { readAll } from "../stores/ext.ts";
import type { EnvReader } from "../env.ts";
import { ChecksumMismatchError } from "../pipeline/hash_stream.ts";
import {
  type AuthBackend,
  loadCredentials,
  RegistryAuth,
  type RegistryCredentials,
} from "./auth.ts";
import { insecureFetch } from "./insecure_fetch.ts";
import { OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from "./media_types.ts";

/** Options of {@linkcode RegistryClient}. */
export interface RegistryClientOptions {
  /** `host[:port]`. */
  registry: string;
  /** Speak HTTP instead of HTTPS. @default false */
  plainHttp?: boolean | undefined;
  /** Do not verify TLS certificates. @default false */
  insecure?: boolean | undefined;
  /** `token` (answer challenges) or `basic` (credentials up front). @default "token" */
  authBackend?: AuthBackend | undefined;
  /** Credentials (see `loadCredentials`). */
  credentials?: RegistryCredentials | undefined;
  /** The transport (tests count requests with it). @default fetch */
  fetch?: typeof fetch | undefined;
  /** Retries of idempotent requests. */
  retry?: RetryOptions | undefined;
  /** Cancels everything. */
  signal?: AbortSignal | undefined;
}

/** A manifest as fetched: its exact bytes and digest. */
export interface FetchedManifest {
  /** The bytes as the registry holds them. */
  bytes: Uint8Array;
  /** `sha256:` + the hex digest of the bytes. */
  digest: string;
  /** The `Content-Type` the registry sent. */
  mediaType: string;
}

/** What a request needs. */
export interface RequestOptions {
  /** Token scopes. */
  scopes: readonly string[];
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Makes the body. */
  body?: () => BodyInit | null;
  /**
   * Whether `body` can be made again, so a 401 answered on the way is
   * followed by the same request; a streamed body cannot, and the 401 is
   * thrown as a transient error for the caller's recovery instead.
   * @default true
   */
  replayable?: boolean;
}

/** Manifests are small; a bigger body is refused rather than buffered. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MANIFEST_ACCEPT = [
  OCI_MANIFEST_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** The `pull` scope of a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The `pull,push` scope of a repository. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** The sha256 digest of bytes, `sha256:` + hex. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * A client of one registry. Every request carries the authorization its
 * scopes need; a 401 is answered once (token or Basic) and the request sent
 * again. Error messages name the registry and what was asked, never a
 * secret.
 *
 * @example Reading a manifest (network, not run)
 * ```ts ignore
 * import { RegistryClient } from "./client.ts";
 * const client = new RegistryClient({ registry: "127.0.0.1:5000", plainHttp: true });
 * const manifest = await client.getManifest("team/pkg", "latest");
 * console.log(manifest.digest);
 * ```
 */
export class RegistryClient {
  /** `host[:port]`. */
  readonly registry: string;
  /** `http(s)://host[:port]`. */
  readonly baseUrl: string;
  /** Retries of idempotent requests. */
  readonly retry: RetryOptions;
  /** Cancels everything. */
  readonly signal: AbortSignal | undefined;
  readonly #fetch: typeof fetch;
  readonly #auth: RegistryAuth;

  /**
   * A client with no request sent yet.
   *
   * @param options Registry, transport, auth.
   */
  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.baseUrl = `${options.plainHttp ? "http" : "https"}://${options.registry}`;
    this.#fetch = options.fetch ?? (options.insecure ? insecureFetch : fetch);
    this.retry = options.retry ?? {};
    this.signal = options.signal;
    this.#auth = new RegistryAuth({
      registry: options.registry,
      backend: options.authBackend,
      credentials: options.credentials,
      fetch: this.#fetch,
    });
  }

  /**
   * Names the client in messages.
   *
   * @returns `RegistryClient(host[:port])`.
   */
  toString(): string {
    return `RegistryClient(${this.registry})`;
  }

  /**
   * Sends one request with authorization; answers one 401 and sends again.
   *
   * @param method The HTTP method.
   * @param target A path below the registry (`/v2/...`) or an absolute URL.
   * @param options Scopes, headers, body factory.
   * @returns The response, whatever its status.
   * @throws {TransientError} When the request could not be sent or answered (connection refused, reset, timeout).
   */
  async request(
    method: string,
    target: string | URL,
    options: RequestOptions,
  ): Promise<Response> {
    const url = typeof target === "string" ? new URL(this.baseUrl + target) : target;
    for (let round = 0;; round++) {
      const headers = new Headers(options.headers);
      const authorization = this.#auth.headerFor(options.scopes);
      if (authorization) headers.set("authorization", authorization);
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          headers,
          body: options.body?.() ?? null,
          signal: this.signal ?? null,
        });
      } catch (error) {
        if (this.signal?.aborted) throw this.signal.reason;
        const cause = (error as Error).cause;
        const why = cause instanceof Error
          ? cause.message
          : (error as Error).message ?? String(error);
        if (/certificate/i.test(why)) {
          throw new PermissionDeniedError(
            `TLS certificate of "${url.host}" not trusted (--insecure skips the check): ${why}`,
            { store: this.toString(), cause: error },
          );
        }
        throw new TransientError(`${method} ${this.describe(url)} failed: ${why}`, {
          store: this.toString(),
          cause: error,
        });
      }
      if (response.status === 401 && round === 0) {
        if (await this.#auth.answer(response, options.scopes, authorization)) {
          await response.body?.cancel();
          if (options.body && options.replayable === false) {
            throw new TransientError(
              `${method} ${this.describe(url)} needed new authorization: sending it again`,
              { store: this.toString() },
            );
          }
          continue;
        }
      }
      return response;
    }
  }

  /**
   * A URL as messages show it: registry and path, no query string.
   *
   * @param url The URL.
   * @returns The text.
   */
  describe(url: URL): string {
    return `${url.host}${url.pathname}`;
  }

  /**
   * Throws the error a failed response stands for (its registry error code
   * and message included); 5xx and 429 are transient.
   *
   * @param response The response (its body is read, up to 4 KiB).
   * @param what What was asked, for the message.
   * @returns Never.
   */
  async fail(response: Response, what: string): Promise<never> {
    let detail = "";
    try {
      const text = (await response.text()).slice(0, 4096);
      const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      const first = body.errors?.[0];
      if (first) detail = `: ${[first.code, first.message].filter(Boolean).join(" ")}`;
    } catch {
      // not a registry error body
    }
    const reason = response.status === 401
      ? "authentication required"
      : response.status === 403
      ? "access denied"
      : `HTTP ${response.status}`;
    throw errorFromStatus(response.status, `${what} at "${this.registry}": ${reason}${detail}`, {
      store: this.toString(),
      retryAfter: response.headers.get("retry-after"),
    });
  }

  /**
   * Runs an idempotent request with retries on transient failures, failing
   * on any status not in `ok`.
   *
   * @param what For messages.
   * @param ok The statuses that mean success.
   * @param send Sends the request.
   * @returns The successful response.
   */
  async retried(
    what: string,
    ok: readonly number[],
    send: () => Promise<Response>,
  ): Promise<Response> {
    return await withRetry(async () => {
      const response = await send();
      if (!ok.includes(response.status)) await this.fail(response, what);
      return response;
    }, { ...this.retry, signal: this.signal });
  }

  /**
   * Fetches a manifest by tag or digest, with its exact bytes. By digest,
   * the bytes must hash to it; the registry's `Docker-Content-Digest`, when
   * sent, must match too.
   *
   * @param repository The repository.
   * @param reference A tag or a digest.
   * @returns The manifest.
   * @throws {NotFoundError} When there is no such manifest.
   * @throws {ChecksumMismatchError} When the bytes do not hash to the digest.
   * @throws {RangeError} When the body is larger than 4 MiB.
   */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `Manifest "${repository}:${reference}"`;
    const bytes = await withRetry(async () => {
      const response = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
        scopes: [pullScope(repository)],
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (response.status !== 200) await this.fail(response, what);
      const body = await readAll(response.body ?? ReadableStream.from([]), MAX_MANIFEST_BYTES)
        .catch((error) => {
          throw error instanceof RangeError
            ? new RangeError(`${what} is larger than ${MAX_MANIFEST_BYTES} bytes`)
            : error;
        });
      return { body, response };
    }, { ...this.retry, signal: this.signal });
    const digest = digestOf(bytes.body);
    const sent = bytes.response.headers.get("docker-content-digest");
    const expected = reference.startsWith("sha256:") ? reference : sent;
    if (expected && expected !== digest) {
      throw new ChecksumMismatchError("sha256", expected, digest, `${repository} manifest`);
    }
    return {
      bytes: bytes.body,
      digest,
      mediaType: (bytes.response.headers.get("content-type") ?? "").split(";")[0]!.trim(),
    };
  }

  /**
   * Stores a manifest under a tag (or its digest).
   *
   * @param repository The repository.
   * @param reference The tag, or the digest.
   * @param bytes The manifest's bytes.
   * @param mediaType Its media type.
   * @returns The digest the registry reports (checked against the bytes').
   */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<string> {
    const what = `Manifest "${repository}:${reference}"`;
    const response = await this.retried(
      what,
      [200, 201],
      () =>
        this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
          scopes: [pushScope(repository)],
          headers: { "content-type": mediaType },
          body: () => bytes as Uint8Array<ArrayBuffer>,
        }),
    );
    await response.body?.cancel();
    const digest = digestOf(bytes);
    const reported = response.headers.get("docker-content-digest");
    if (reported && reported !== digest) {
      throw new ChecksumMismatchError("sha256", digest, reported, `${repository} manifest`);
    }
    return digest;
  }

  /**
   * The size of a blob in a repository, or undefined when the repository
   * does not hold it.
   *
   * @param repository The repository.
   * @param digest The blob's digest.
   * @param scopes The scopes to ask with (pushing asks `pull,push` so one token serves every call).
   * @returns Its size, or undefined.
   */
  async blobSize(
    repository: string,
    digest: string,
    scopes: readonly string[] = [pullScope(repository)],
  ): Promise<number | undefined> {
    const response = await this.retried(
      `Blob "${digest}" of "${repository}"`,
      [200, 404],
      () => this.request("HEAD", `/v2/${repository}/blobs/${digest}`, { scopes }),
    );
    await response.body?.cancel();
    if (response.status === 404) return undefined;
    const size = Number(response.headers.get("content-length"));
    return Number.isSafeInteger(size) ? size : undefined;
  }

  /**
   * Starts reading a blob at `offset` (a `Range` request past 0). A server
   * that ignores the range (200) has the skipped bytes cut off here.
   *
   * @param repository The repository.
   * @param digest The blob's digest.
   * @param offset The first byte wanted.
   * @returns The body from `offset` on.
   */
  async getBlob(
    repository: string,
    digest: string,
    offset = 0,
  ): Promise<ReadableStream<Uint8Array>> {
    const what = `Blob "${digest}" of "${repository}"`;
    const response = await this.retried(
      what,
      offset > 0 ? [200, 206] : [200],
      () =>
        this.request("GET", `/v2/${repository}/blobs/${digest}`, {
          scopes: [pullScope(repository)],
          headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        }),
    );
    if (!response.body) throw new InvalidInputError(`${what} at "${this.registry}" has no body`);
    if (offset > 0 && response.status === 200) return skipBytes(response.body, offset);
    return response.body;
  }

  /**
   * Opens an upload session, or mounts the blob from another repository of
   * the registry when `mount` is given and the registry can (201).
   *
   * @param repository The repository to upload into.
   * @param mount The blob to mount and where from.
   * @returns `{ mounted: true }`, or the session's URL.
   */
  async startUpload(
    repository: string,
    mount?: { digest: string; from: string },
  ): Promise<{ mounted: true } | { mounted: false; location: URL }> {
    const query = mount ? `?mount=${mount.digest}&from=${mount.from}` : "";
    const scopes = mount ? [pushScope(repository), pullScope(mount.from)] : [pushScope(repository)];
    const response = await this.retried(
      `Upload to "${repository}"`,
      [201, 202],
      () =>
        this.request("POST", `/v2/${repository}/blobs/uploads/${query}`, {
          scopes,
          headers: { "content-length": "0" },
        }),
    );
    await response.body?.cancel();
    if (response.status === 201 && mount) return { mounted: true };
    return { mounted: false, location: this.locationOf(response, `Upload to "${repository}"`) };
  }

  /**
   * The session URL a response names (`Location`, resolved against the registry).
   *
   * @param response An upload response.
   * @param what For the error.
   * @returns The URL.
   */
  locationOf(response: Response, what: string): URL {
    const location = response.headers.get("location");
    if (!location) throw new InvalidInputError(`${what} at "${this.registry}": no Location header`);
    return new URL(location, this.baseUrl);
  }

  /**
   * The token scopes every upload request of `repository` asks with.
   *
   * @param repository The repository.
   * @returns The scopes.
   */
  uploadScopes(repository: string): string[] {
    return [pushScope(repository)];
  }
}

/**
 * The next offset an upload response's `Range: 0-N` reports (N + 1), or
 * undefined when it sends none.
 *
 * @example
 * ```ts
 * import { nextOffsetOf } from "./client.ts";
 * import { equal } from "node:assert/strict";
 * equal(nextOffsetOf(new Headers({ range: "0-1048575" })), 1048576);
 * equal(nextOffsetOf(new Headers({ range: "0-0" })), 0);
 * ```
 *
 * @param headers Response headers.
 * @returns The offset.
 */
export function nextOffsetOf(headers: Headers): number | undefined {
  const match = headers.get("range")?.match(/^(?:bytes=)?0-(\d+)$/);
  if (!match) return undefined;
  const end = Number(match[1]);
  // distribution says "0-0" for an empty session as well as for one byte; sessions
  // here never hold a single byte (chunks are large), so it means empty.
  return end === 0 ? 0 : end + 1;
}

function skipBytes(body: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array> {
  let left = count;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (left >= chunk.byteLength) {
          left -= chunk.byteLength;
          return;
        }
        controller.enqueue(left > 0 ? chunk.subarray(left) : chunk);
        left = 0;
      },
    }),
  );
}

/** How to reach and authorize with a registry (shared by push, pull and inspect). */
export interface RegistryOptions {
  /** Speak HTTP instead of HTTPS. @default false */
  plainHttp?: boolean | undefined;
  /** Do not verify TLS certificates. @default false */
  insecure?: boolean | undefined;
  /** `token` or `basic` (stacpkg's `--auth-backend`). @default "token" */
  authBackend?: AuthBackend | undefined;
  /** Credentials; by default read by `loadCredentials` (Docker config, then `ORAS_USER`/`ORAS_PASS`). */
  credentials?: RegistryCredentials | undefined;
  /** The environment credentials are read from. @default readEnv */
  env?: EnvReader | undefined;
  /** The transport. @default fetch */
  fetch?: typeof fetch | undefined;
  /** Retries of idempotent requests. */
  retry?: RetryOptions | undefined;
  /** Cancels everything. */
  signal?: AbortSignal | undefined;
}

/**
 * A client for `registry` with the credentials found for it.
 *
 * @example Anonymous client
 * ```ts
 * import { openRegistry } from "./client.ts";
 * import { equal } from "node:assert/strict";
 * const client = await openRegistry("127.0.0.1:5000", { plainHttp: true, env: () => undefined });
 * equal(client.baseUrl, "http://127.0.0.1:5000");
 * ```
 *
 * @param registry `host[:port]`.
 * @param options Transport and auth.
 * @returns The client.
 */
export async function openRegistry(
  registry: string,
  options: RegistryOptions = {},
): Promise<RegistryClient> {
  const credentials = options.credentials ??
    await loadCredentials(registry, { env: options.env });
  return new RegistryClient({ ...options, registry, credentials });
}
