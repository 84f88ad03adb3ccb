/**
 * Checksums computed while bytes stream through, never by a second read.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { normalizeEtag } from "../stores/store.ts";

/** What a {@linkcode HashStream} computed once its input ended. */
export interface StreamDigest {
  /** Bytes that passed. */
  size: number;
  /** SHA-256, lower-case hex. */
  sha256: string;
  /** MD5, lower-case hex, when it was asked for. */
  md5?: string | undefined;
}

/** What the bytes must match; a mismatch errors the stream instead of ending it. */
export interface ExpectedDigest {
  /** The exact size in bytes. */
  size?: number | undefined;
  /** SHA-256 hex, or a multihash (`1220` + SHA-256 hex). */
  sha256?: string | undefined;
  /** MD5 hex (e.g. an ETag the store computed as the MD5 of the bytes). */
  md5?: string | undefined;
}

/** Options of {@linkcode HashStream}. */
export interface HashStreamOptions {
  /**
   * Also compute MD5 (to compare with stores whose ETag is the MD5); implied
   * by `expected.md5`.
   * @default false
   */
  md5?: boolean | undefined;
  /** Facts to verify; a mismatch errors the readable side with a {@linkcode ChecksumMismatchError}. */
  expected?: ExpectedDigest | undefined;
  /** Names the object in errors. */
  key?: string | undefined;
  /** Called with the size of each piece as it passes (progress). */
  onBytes?: ((bytes: number) => void) | undefined;
}

/** Which fact did not match. */
export type MismatchKind = "size" | "sha256" | "md5" | "etag";

/** Bytes that did not match the expected size or checksum. */
export class ChecksumMismatchError extends Error {
  /** Which fact did not match. */
  readonly kind: MismatchKind;
  /** The expected value. */
  readonly expected: string | number;
  /** The value seen. */
  readonly actual: string | number;
  /** The object, when known. */
  readonly key: string | undefined;

  /**
   * Creates a `ChecksumMismatchError`
   *
   * @param kind Which fact.
   * @param expected The expected value.
   * @param actual The value seen.
   * @param key The object, when known.
   */
  constructor(
    kind: MismatchKind,
    expected: string | number,
    actual: string | number,
    key?: string,
  ) {
    super(
      `${kind} mismatch: expected ${expected}, actual ${actual}${
        key === undefined ? "" : ` for "${key}"`
      }`,
    );
    this.name = "ChecksumMismatchError";
    this.kind = kind;
    this.expected = expected;
    this.actual = actual;
    this.key = key;
  }
}

/**
 * The multihash hex of a SHA-256 digest: `1220` + the hex digest.
 *
 * @example
 * ```ts
 * import { multihashOf } from "./hash_stream.ts";
 * import { equal } from "node:assert/strict";
 * equal(multihashOf("ab".repeat(32)).slice(0, 6), "1220ab");
 * ```
 *
 * @param sha256Hex SHA-256 as 64 hex digits.
 * @returns The multihash hex.
 */
export function multihashOf(sha256Hex: string): string {
  return "1220" + sha256Hex.toLowerCase();
}

/**
 * The SHA-256 hex of a checksum given as plain hex or as a multihash.
 *
 * @example
 * ```ts
 * import { sha256HexOf } from "./hash_stream.ts";
 * import { equal } from "node:assert/strict";
 * equal(sha256HexOf("1220" + "0".repeat(64)), "0".repeat(64));
 * ```
 *
 * @param checksum 64 hex digits, or `1220` + 64 hex digits.
 * @returns The 64 hex digits, lower case.
 * @throws {SyntaxError} When it is neither form.
 */
export function sha256HexOf(checksum: string): string {
  const text = checksum.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(text)) return text;
  if (/^1220[0-9a-f]{64}$/.test(text)) return text.slice(4);
  throw new SyntaxError(
    `Invalid checksum "${checksum}": expected SHA-256 hex or a multihash starting 1220`,
  );
}

/**
 * Whether an ETag is a plain MD5 of the bytes (32 hex digits), as Swift
 * (non-SLO), single-part S3 without KMS, and the memory store report.
 *
 * @param etag The ETag, quoted or not.
 * @returns True when it can be compared with an MD5.
 */
export function isMd5Etag(etag: string | undefined): etag is string {
  return etag !== undefined && /^"?[0-9a-f]{32}"?$/i.test(etag);
}

/**
 * The MD5 an ETag stands for, lower-case hex, when it is a plain MD5 (see
 * {@linkcode isMd5Etag}).
 *
 * @example
 * ```ts
 * import { md5OfEtag } from "./hash_stream.ts";
 * import { equal } from "node:assert/strict";
 * equal(md5OfEtag('"900150983CD24FB0D6963F7D28E17F72"'), "900150983cd24fb0d6963f7d28e17f72");
 * equal(md5OfEtag("900150983cd24fb0d6963f7d28e17f72-3"), undefined);
 * ```
 *
 * @param etag The ETag, quoted or not.
 * @returns The MD5 hex, or undefined.
 */
export function md5OfEtag(etag: string | undefined): string | undefined {
  return isMd5Etag(etag) ? normalizeEtag(etag)!.toLowerCase() : undefined;
}

/**
 * A pass-through stage that hashes every byte with `node:crypto` (SHA-256,
 * and MD5 when asked) and counts them. It buffers nothing beyond the chunk it
 * is handing on. When the input ends it checks the expected facts: on a
 * mismatch the readable side errors instead of closing, so a `put` reading it
 * aborts and nothing becomes visible. A size overrun errors at once.
 *
 * @example Hashing bytes on their way
 * ```ts
 * import { HashStream } from "./hash_stream.ts";
 * import { equal } from "node:assert/strict";
 * const hash = new HashStream({ md5: true });
 * await new Blob(["abc"]).stream().pipeThrough(hash).pipeTo(new WritableStream());
 * const digest = await hash.digest;
 * equal(digest.size, 3);
 * equal(digest.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * equal(digest.md5, "900150983cd24fb0d6963f7d28e17f72");
 * ```
 */
export class HashStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Resolves with the digest when the input ends; rejects on error or mismatch. */
  readonly digest: Promise<StreamDigest>;
  readonly #found: { mismatch?: ChecksumMismatchError };

  /**
   * Creates a `HashStream`
   *
   * @param options MD5, expected facts, key for errors.
   */
  constructor(options: HashStreamOptions = {}) {
    const sha256: Hash = createHash("sha256");
    const md5: Hash | undefined = options.md5 || options.expected?.md5 !== undefined
      ? createHash("md5")
      : undefined;
    const expected = options.expected ?? {};
    const expectedSha = expected.sha256 === undefined ? undefined : sha256HexOf(expected.sha256);
    const expectedMd5 = normalizeEtag(expected.md5)?.toLowerCase();
    let size = 0;
    let settle!: { resolve: (d: StreamDigest) => void; reject: (e: unknown) => void };
    const digest = new Promise<StreamDigest>((resolve, reject) => {
      settle = { resolve, reject };
    });
    digest.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    const found: { mismatch?: ChecksumMismatchError } = {};
    super({
      transform(chunk, controller) {
        size += chunk.byteLength;
        options.onBytes?.(chunk.byteLength);
        if (expected.size !== undefined && size > expected.size) {
          const error = new ChecksumMismatchError(
            "size",
            expected.size,
            `more than ${expected.size}`,
            options.key,
          );
          found.mismatch = error;
          settle.reject(error);
          throw error;
        }
        sha256.update(chunk);
        md5?.update(chunk);
        controller.enqueue(chunk);
      },
      flush() {
        const result: StreamDigest = { size, sha256: sha256.digest("hex") };
        if (md5) result.md5 = md5.digest("hex");
        let error: ChecksumMismatchError | undefined;
        if (expected.size !== undefined && size !== expected.size) {
          error = new ChecksumMismatchError("size", expected.size, size, options.key);
        } else if (expectedSha !== undefined && result.sha256 !== expectedSha) {
          error = new ChecksumMismatchError(
            "sha256",
            expectedSha,
            result.sha256,
            options.key,
          );
        } else if (
          expectedMd5 !== undefined && result.md5 !== undefined && result.md5 !== expectedMd5
        ) {
          error = new ChecksumMismatchError("md5", expectedMd5, result.md5, options.key);
        }
        if (error) {
          found.mismatch = error;
          settle.reject(error);
          throw error;
        }
        settle.resolve(result);
      },
      cancel(reason) {
        settle.reject(reason);
      },
    });
    this.#found = found;
    this.digest = digest;
  }

  /** The mismatch found so far, if any (set before the stream errors). */
  get mismatch(): ChecksumMismatchError | undefined {
    return this.#found.mismatch;
  }
}

/**
 * Passes bytes through and errors with a size `ChecksumMismatchError` (as
 * {@linkcode HashStream} does) when there are more or fewer than `size`:
 * for reads whose bytes only their count proves, without hashing them.
 *
 * @example
 * ```ts
 * import { sizeChecked } from "./hash_stream.ts";
 * import { rejects } from "node:assert/strict";
 * const body = ReadableStream.from([new Uint8Array(3)]);
 * await rejects(new Response(body.pipeThrough(sizeChecked(4, "k"))).arrayBuffer());
 * ```
 *
 * @param size The expected byte count.
 * @param key Names the object in errors.
 * @returns The checking stream.
 */
export function sizeChecked(size: number, key?: string): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > size) throw new ChecksumMismatchError("size", size, `more than ${size}`, key);
      controller.enqueue(chunk);
    },
    flush() {
      if (seen !== size) throw new ChecksumMismatchError("size", size, seen, key);
    },
  });
}
