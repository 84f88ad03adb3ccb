/**
 * SHA-256 multihash checksums of byte streams, computed while the bytes flow
 * (`node:crypto`, hardware-accelerated), never by buffering them.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { SHA256_MULTIHASH_PREFIX } from "./schema.ts";
import { noteReleasedBytes } from "../reclaim.ts";

/** The checksum algorithms a lock can record. */
export type ChecksumAlgorithm = "none" | "sha256";

/**
 * Parses a `--checksum` value.
 *
 * @param value `none` or `sha256`.
 * @returns The algorithm.
 * @throws {TypeError} For any other value.
 */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm {
  if (value === "none" || value === "sha256") return value;
  throw new TypeError(`Invalid checksum "${value}": expected none or sha256`);
}

/**
 * A pass-through stage that hashes every chunk; read {@linkcode checksum} and
 * {@linkcode size} once the stream has ended. Buffers nothing beyond the chunk
 * in flight.
 *
 * @example Hashing bytes on their way through
 * ```ts
 * import { Sha256Stream } from "./checksum.ts";
 * import { equal } from "node:assert/strict";
 * const hasher = new Sha256Stream();
 * await new Blob(["abc"]).stream().pipeThrough(hasher).pipeTo(new WritableStream());
 * equal(hasher.checksum,
 *   "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * equal(hasher.size, 3);
 * ```
 */
export class Sha256Stream extends TransformStream<Uint8Array, Uint8Array> {
  #hash: Hash = createHash("sha256");
  #size = 0;
  #digest: string | undefined;

  /** Creates the stage. */
  constructor() {
    const box: { self?: Sha256Stream } = {};
    super({
      transform(chunk, controller) {
        box.self!.#hash.update(chunk);
        box.self!.#size += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush() {
        box.self!.#digest = SHA256_MULTIHASH_PREFIX + box.self!.#hash.digest("hex");
      },
    });
    box.self = this;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * The multihash hex (`1220` + SHA-256 hex) once the stream ended.
   * @throws {Error} Before the stream has ended.
   */
  get checksum(): string {
    if (this.#digest === undefined) throw new Error("The stream has not ended yet");
    return this.#digest;
  }
}

/**
 * Reads a stream to its end and returns its SHA-256 multihash and size.
 *
 * @example
 * ```ts
 * import { sha256Multihash } from "./checksum.ts";
 * import { equal } from "node:assert/strict";
 * const { checksum, size } = await sha256Multihash(new Blob([""]).stream());
 * equal(checksum, "1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * equal(size, 0);
 * ```
 *
 * @param stream The bytes.
 * @returns The multihash hex and the byte count.
 */
export async function sha256Multihash(
  stream: ReadableStream<Uint8Array>,
): Promise<{ checksum: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
    noteReleasedBytes(chunk.byteLength);
  }
  return { checksum: SHA256_MULTIHASH_PREFIX + hash.digest("hex"), size };
}
