/**
 * Uploading one blob whose digest is known: a cross-repository mount when a
 * source repository is named, else a monolithic PUT (small blobs) or PATCH
 * chunks with `Content-Range` closed by `PUT ?digest=` (large ones). A chunk
 * whose connection drops is resumed from the offset the registry reports
 * (`GET` on the session, `Range: 0-N`); a registry that invalidated the
 * session (distribution does once part of a chunk was written) gets a fresh
 * one from byte 0.
 *
 * @module
 */
import { HashStream } from "../pipeline/hash_stream.ts";
import { isTransient, NotFoundError } from "../stores/errors.ts";
import type { RegistryClient } from "./client.ts";
import { nextOffsetOf } from "./client.ts";

/** A blob to upload: its identity and a way to read it from any offset. */
export interface BlobSource {
  /** `sha256:` + hex. */
  digest: string;
  /** Its size. */
  size: number;
  /** Its bytes from `start` to the end. */
  open(start: number): Promise<ReadableStream<Uint8Array>>;
}

/** Options of {@linkcode uploadBlob}. */
export interface UploadOptions {
  /** Blobs up to this size go in one PUT. @default 16 MiB */
  monolithicMaxBytes?: number | undefined;
  /** The size of each PATCH of a larger blob. @default 64 MiB */
  chunkSizeBytes?: number | undefined;
  /** Repositories of the same registry to mount the blob from, tried in order. */
  mountFrom?: readonly string[] | undefined;
  /** Attempts per blob after transport failures (resumes and fresh sessions). @default 4 */
  maxAttempts?: number | undefined;
  /** Bytes sent, as they go (progress and tests). */
  onBytes?: ((bytes: number) => void) | undefined;
  /** Called when a chunk resumes from the registry's offset, or a session restarts (offset 0). */
  onResume?: ((offset: number) => void) | undefined;
}

/** How a blob got into the repository. */
export type UploadOutcome = "uploaded" | "mounted";

const MIB = 1024 * 1024;

/** `length` bytes of `stream`, which must have that many. */
function take(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  length: number,
  carry: { rest?: Uint8Array | undefined },
  onBytes: ((bytes: number) => void) | undefined,
): ReadableStream<Uint8Array> {
  let left = length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (left === 0) {
        controller.close();
        return;
      }
      let chunk = carry.rest;
      carry.rest = undefined;
      if (!chunk) {
        const next = await reader.read();
        if (next.done) throw new RangeError(`Blob source ended ${left} bytes early`);
        chunk = next.value;
      }
      if (chunk.byteLength > left) {
        carry.rest = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.byteLength;
      onBytes?.(chunk.byteLength);
      controller.enqueue(chunk);
      if (left === 0) controller.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Puts a blob into a repository (see the module doc). The bytes read from
 * offset 0 pass a `HashStream` expecting the digest and size, so a source
 * that changed since it was hashed fails the upload before the registry
 * stores it; bytes resent after a resume are checked by the registry's
 * `PUT ?digest=`.
 *
 * @example Uploading a file (network, not run)
 * ```ts ignore
 * import { RegistryClient } from "./client.ts";
 * import { uploadBlob } from "./upload.ts";
 * const client = new RegistryClient({ registry: "127.0.0.1:5000", plainHttp: true });
 * const path = "data.bin";
 * const size = (await Deno.stat(path)).size;
 * await uploadBlob(client, "team/pkg", {
 *   digest: "sha256:...", size,
 *   open: async (start) => { const f = await Deno.open(path); await f.seek(start, Deno.SeekMode.Start); return f.readable; },
 * });
 * ```
 *
 * @param client The registry.
 * @param repository The repository.
 * @param source Digest, size and bytes.
 * @param options Sizes, mount sources, attempts.
 * @returns Whether it was uploaded or mounted.
 */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  source: BlobSource,
  options: UploadOptions = {},
): Promise<UploadOutcome> {
  let session: URL | undefined;
  for (const from of options.mountFrom ?? []) {
    if (from === repository) continue;
    const started = await client.startUpload(repository, { digest: source.digest, from });
    if (started.mounted) return "mounted";
    session = started.location; // not there: upload into the session the mount attempt opened
    break;
  }
  const monolithicMax = options.monolithicMaxBytes ?? 16 * MIB;
  if (source.size <= monolithicMax) {
    await putMonolithic(client, repository, source, session, options);
  } else {
    await putChunked(client, repository, source, session, options);
  }
  return "uploaded";
}

async function newSession(client: RegistryClient, repository: string): Promise<URL> {
  const started = await client.startUpload(repository);
  return (started as { location: URL }).location;
}

function withDigest(session: URL, digest: string): URL {
  const url = new URL(session);
  url.searchParams.set("digest", digest);
  return url;
}

async function putMonolithic(
  client: RegistryClient,
  repository: string,
  source: BlobSource,
  session: URL | undefined,
  options: UploadOptions,
): Promise<void> {
  const what = `Blob "${source.digest}" upload to "${repository}"`;
  const maxAttempts = options.maxAttempts ?? 4;
  for (let attempt = 1;; attempt++) {
    session ??= await newSession(client, repository);
    const hash = new HashStream({
      expected: { size: source.size, sha256: source.digest.slice(7) },
    });
    const body = (await source.open(0)).pipeThrough(hash);
    let counted = 0;
    try {
      const response = await client.request("PUT", withDigest(session, source.digest), {
        scopes: client.uploadScopes(repository),
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(source.size),
        },
        replayable: false,
        body: () =>
          body.pipeThrough(
            new TransformStream({
              transform(chunk, controller) {
                counted += chunk.byteLength;
                options.onBytes?.(chunk.byteLength);
                controller.enqueue(chunk);
              },
            }),
          ),
      });
      if (response.status !== 201) await client.fail(response, what);
      await response.body?.cancel();
      return;
    } catch (error) {
      if (hash.mismatch) throw hash.mismatch;
      if (!isTransient(error) || attempt >= maxAttempts) throw error;
      options.onBytes?.(-counted);
      options.onResume?.(0);
      session = undefined; // a failed PUT may have closed or spoiled the session
    }
  }
}

async function putChunked(
  client: RegistryClient,
  repository: string,
  source: BlobSource,
  session: URL | undefined,
  options: UploadOptions,
): Promise<void> {
  const what = `Blob "${source.digest}" upload to "${repository}"`;
  const chunkSize = options.chunkSizeBytes ?? 64 * MIB;
  const maxAttempts = options.maxAttempts ?? 4;
  const scopes = client.uploadScopes(repository);
  let location = session ?? await newSession(client, repository);
  let offset = 0;
  let failures = 0;
  // One pass from byte 0 through the expected digest while nothing fails.
  let hash: HashStream | undefined = new HashStream({
    expected: { size: source.size, sha256: source.digest.slice(7) },
  });
  let sequential: ReadableStreamDefaultReader<Uint8Array> | undefined = (await source.open(0))
    .pipeThrough(hash).getReader();
  const carry: { rest?: Uint8Array | undefined } = {};
  const dropSequential = async () => {
    await sequential?.cancel().catch(() => {});
    sequential = undefined;
    hash = undefined;
  };
  try {
    while (offset < source.size) {
      const length = Math.min(chunkSize, source.size - offset);
      const reader = sequential ?? (await source.open(offset)).getReader();
      const ownReader = sequential === undefined;
      try {
        const response = await client.request("PATCH", location, {
          scopes,
          headers: {
            "content-type": "application/octet-stream",
            "content-range": `${offset}-${offset + length - 1}`,
            "content-length": String(length),
          },
          replayable: false,
          body: () => take(reader, length, ownReader ? {} : carry, options.onBytes),
        });
        if (response.status !== 202) await client.fail(response, what);
        await response.body?.cancel();
        location = client.locationOf(response, what);
        const reported = nextOffsetOf(response.headers);
        offset = reported ?? offset + length;
        if (reported !== undefined && reported !== offset) await dropSequential();
      } catch (error) {
        if (hash?.mismatch) throw hash.mismatch;
        if (!isTransient(error) || ++failures >= maxAttempts) throw error;
        await dropSequential();
        ({ location, offset } = await recover(client, repository, location, what));
        options.onResume?.(offset);
      } finally {
        if (ownReader) await reader.cancel().catch(() => {});
      }
    }
    if (sequential) {
      // Let the hash see the end of the source: a longer file fails here.
      const tail = await sequential.read();
      if (!tail.done || carry.rest) {
        throw new RangeError(`${what}: the source is longer than ${source.size} bytes`);
      }
      await hash!.digest;
    }
  } finally {
    await dropSequential();
  }
  try {
    const response = await client.retried(
      what,
      [201],
      () =>
        client.request("PUT", withDigest(location, source.digest), {
          scopes,
          headers: { "content-length": "0" },
        }),
    );
    await response.body?.cancel();
  } catch (error) {
    // A closing PUT whose answer was lost leaves the blob stored and the session gone.
    if (await client.blobSize(repository, source.digest, scopes) !== source.size) throw error;
  }
}

/**
 * Where a broken upload stands: the registry's offset on the same session,
 * or a fresh session from 0 when the registry no longer knows it.
 */
async function recover(
  client: RegistryClient,
  repository: string,
  location: URL,
  what: string,
): Promise<{ location: URL; offset: number }> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  try {
    const response = await client.retried(
      what,
      [204],
      () => client.request("GET", location, { scopes: client.uploadScopes(repository) }),
    );
    await response.body?.cancel();
    const offset = nextOffsetOf(response.headers);
    if (offset !== undefined) return { location: client.locationOf(response, what), offset };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  return { location: await newSession(client, repository), offset: 0 };
}
