/**
 * Bytes from a stream taken in exact amounts: what the Arrow IPC reader
 * reads its messages with. A large amount (a message body) is read straight
 * into the caller's buffer when the stream is a byte stream (stdin, a
 * file), instead of being gathered from the small chunks a default reader
 * hands out and copied.
 *
 * @module
 */

/** Bytes a read for small amounts asks for (what a pipe holds). */
const CHUNK_SIZE = 64 * 1024;

/**
 * Bytes from a stream, taken in exact amounts (a copy only of what was read
 * ahead).
 *
 * @example
 * ```ts
 * import { ByteQueue } from "./byte_queue.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const queue = new ByteQueue(new Blob([new Uint8Array([1, 2, 3, 4, 5])]).stream());
 * equal(await queue.fill(2), true);
 * const head = new Uint8Array(2);
 * queue.take(2, head, 0);
 * deepEqual(head, new Uint8Array([1, 2]));
 * const rest = await queue.readInto(3, new Uint8Array(4), 1);
 * deepEqual(rest, new Uint8Array([0, 3, 4, 5]));
 * equal(await queue.fill(1), false);
 * ```
 */
export class ByteQueue {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #chunks: Uint8Array[] = [];
  #size = 0;
  /** Bytes consumed so far. */
  position = 0;

  /** @param stream The bytes. */
  constructor(stream: ReadableStream<Uint8Array>) {
    try {
      this.#byob = stream.getReader({ mode: "byob" });
    } catch {
      // Not a byte stream.
      this.#reader = stream.getReader();
    }
  }

  /**
   * Buffers at least `n` bytes.
   *
   * @param n Bytes.
   * @returns False when the stream ends first.
   */
  async fill(n: number): Promise<boolean> {
    while (this.#size < n) {
      const chunk = await this.#read();
      if (chunk === undefined) return false;
      if (chunk.byteLength > 0) {
        this.#chunks.push(chunk);
        this.#size += chunk.byteLength;
      }
    }
    return true;
  }

  /**
   * A copy of the first (at most) `n` buffered bytes, not consumed.
   *
   * @param n Bytes.
   * @returns The copy.
   */
  peek(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.#size));
    let at = 0;
    for (const chunk of this.#chunks) {
      if (at === out.length) break;
      const part = chunk.subarray(0, out.length - at);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /**
   * Copies the next `n` (buffered) bytes into `into` at `at`.
   *
   * @param n Bytes, at most those buffered.
   * @param into Where to.
   * @param at Where in `into`.
   */
  take(n: number, into: Uint8Array, at: number): void {
    this.#size -= n;
    this.position += n;
    while (n > 0) {
      const chunk = this.#chunks[0]!;
      if (chunk.byteLength <= n) {
        into.set(chunk, at);
        this.#chunks.shift();
        at += chunk.byteLength;
        n -= chunk.byteLength;
      } else {
        into.set(chunk.subarray(0, n), at);
        this.#chunks[0] = chunk.subarray(n);
        n = 0;
      }
    }
  }

  /**
   * Reads the next `n` bytes into `into` at `at`: what is buffered, then
   * the rest straight from the stream into `into` where it can. `into`'s
   * memory is moved into the read then (its buffer is detached): use the
   * array returned, which has the same bytes and the new ones.
   *
   * @param n Bytes.
   * @param into Where to.
   * @param at Where in `into`.
   * @returns `into`, or the array its memory moved to; undefined when the stream ends first.
   */
  async readInto(
    n: number,
    into: Uint8Array<ArrayBuffer>,
    at: number,
  ): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const buffered = Math.min(n, this.#size);
    this.take(buffered, into, at);
    at += buffered;
    n -= buffered;
    const byob = this.#byob;
    if (byob === undefined) {
      if (!(await this.fill(n))) return undefined;
      this.take(n, into, at);
      return into;
    }
    const { byteOffset, byteLength } = into;
    let buffer = into.buffer;
    while (n > 0) {
      const { done, value } = await byob.read(new Uint8Array(buffer, byteOffset + at, n));
      if (value === undefined) return undefined;
      buffer = value.buffer;
      if (done) return undefined;
      at += value.byteLength;
      n -= value.byteLength;
      this.position += value.byteLength;
    }
    return new Uint8Array(buffer, byteOffset, byteLength);
  }

  /** Whether nothing is buffered. */
  get empty(): boolean {
    return this.#size === 0;
  }

  /**
   * Cancels the stream.
   *
   * @param reason Why.
   */
  async cancel(reason?: unknown): Promise<void> {
    await (this.#byob ?? this.#reader)!.cancel(reason).catch(() => {});
  }

  async #read(): Promise<Uint8Array | undefined> {
    if (this.#byob) {
      const { done, value } = await this.#byob.read(new Uint8Array(CHUNK_SIZE));
      return done ? undefined : value;
    }
    const next = await this.#reader!.read();
    return next.done ? undefined : next.value;
  }
}
