/**
 * A blob read as one stream that survives dropped connections: when the
 * body breaks off, the rest is asked for again with a `Range` request.
 *
 * @module
 */
import { TransientError } from "../stores/errors.ts";
import { isTransient } from "../stores/errors.ts";
import type { RegistryClient } from "./client.ts";

/** A blob's identity. */
export interface BlobDescriptor {
  /** `sha256:` + hex. */
  digest: string;
  /** Its size in bytes. */
  size: number;
}

/** Options of {@linkcode openResumableBlob}. */
export interface ResumableBlobOptions {
  /** Resumes allowed after the first request. @default 4 */
  maxResumes?: number | undefined;
  /** Called after each resume with the offset it started from (tests, progress). */
  onResume?: ((offset: number) => void) | undefined;
}

/**
 * The bytes of a blob, from the start. A body that errors or ends before
 * `size` bytes is continued with `Range: bytes=N-` (up to `maxResumes`
 * times); the bytes are not checked here (pipe them through a
 * `HashStream` with the expected digest).
 *
 * @example Reading a blob (network, not run)
 * ```ts ignore
 * import { RegistryClient } from "./client.ts";
 * import { openResumableBlob } from "./blob_reader.ts";
 * const client = new RegistryClient({ registry: "127.0.0.1:5000", plainHttp: true });
 * const stream = openResumableBlob(client, "team/pkg", { digest: "sha256:...", size: 10 });
 * await stream.pipeTo(new WritableStream());
 * ```
 *
 * @param client The registry.
 * @param repository The repository.
 * @param blob Digest and size.
 * @param options Resume limit.
 * @returns The stream.
 */
export function openResumableBlob(
  client: RegistryClient,
  repository: string,
  blob: BlobDescriptor,
  options: ResumableBlobOptions = {},
): ReadableStream<Uint8Array> {
  const maxResumes = options.maxResumes ?? 4;
  let offset = 0;
  let resumes = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const resume = async (error: unknown): Promise<void> => {
    await reader?.cancel().catch(() => {});
    reader = undefined;
    if (resumes >= maxResumes || client.signal?.aborted) throw error;
    resumes++;
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** resumes));
    options.onResume?.(offset);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        reader ??= (await client.getBlob(repository, blob.digest, offset)).getReader();
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (error) {
          // A body fetch cuts off errors with a TypeError.
          if (!isTransient(error) && !(error instanceof TypeError)) throw error;
          await resume(error);
          continue;
        }
        if (next.done) {
          if (offset < blob.size) {
            await resume(
              new TransientError(
                `Blob "${blob.digest}" ended after ${offset} of ${blob.size} bytes`,
              ),
            );
            continue;
          }
          controller.close();
          return;
        }
        offset += next.value.byteLength;
        controller.enqueue(next.value);
        return;
      }
    },
    async cancel(reason) {
      await reader?.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
