/**
 * NDJSON bytes cut into blocks of whole lines, each read into a buffer of
 * its own: straight from the stream into the buffer when it is a byte stream
 * (a file, stdin), megabytes a read, rather than through the small chunks a
 * default reader hands out and a copy of them. A buffer given back is read
 * into again.
 *
 * @module
 */

/** Blocks read ahead of the one taken (their reads go on while it is worked on). */
const READ_AHEAD = 3;

/** What a stream is read with: into a view (BYOB), else by copying its chunks. */
type Source =
  | { byob: ReadableStreamBYOBReader }
  | { chunks: ReadableStreamDefaultReader<Uint8Array>; rest: Uint8Array };

/**
 * The blocks of whole lines of an NDJSON stream, in order.
 *
 * @example
 * ```ts
 * import { NdjsonBlocks } from "./ndjson_blocks.ts";
 * import { equal } from "node:assert/strict";
 * const blocks = new NdjsonBlocks(new Blob(["a\nbb\ncc"]).stream(), 4);
 * const text = new TextDecoder();
 * equal(text.decode(await blocks.next()), "a\n");
 * equal(text.decode(await blocks.next()), "bb\n");
 * equal(text.decode(await blocks.next()), "cc");
 * equal(await blocks.next(), undefined);
 * ```
 */
export class NdjsonBlocks {
  readonly #size: number;
  #source: Source | undefined;
  readonly #stream: ReadableStream<Uint8Array>;
  /** The bytes after the last newline of the block before (a copy). */
  #carry: Uint8Array = new Uint8Array(0);
  #ended = false;
  readonly #spare: ArrayBuffer[] = [];
  /** The blocks being read, in order: the next one and those after it. */
  #ahead: Promise<Uint8Array<ArrayBuffer> | undefined>[] = [];

  /**
   * @param stream The NDJSON bytes.
   * @param size Bytes a block holds at most, unless one line is longer.
   */
  constructor(stream: ReadableStream<Uint8Array>, size: number) {
    this.#stream = stream;
    this.#size = Math.max(1, size);
  }

  /**
   * The next block: whole lines, each with its newline (the last line of
   * the stream may lack it); undefined at the end. The block's buffer is the
   * caller's from now on. The blocks after it are read meanwhile (the reads
   * go on while the caller works on this one).
   *
   * @returns The block, or undefined.
   */
  async next(): Promise<Uint8Array<ArrayBuffer> | undefined> {
    while (this.#ahead.length < READ_AHEAD) {
      const last = this.#ahead.at(-1);
      // Each read needs the carry of the one before.
      const ahead = last ? last.then((b) => b && this.#readBlock()) : this.#readBlock();
      // Its failure is reported by the call that takes it.
      ahead.catch(() => {});
      this.#ahead.push(ahead);
    }
    return await this.#ahead.shift();
  }

  async #readBlock(): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const carry = this.#carry;
    if (this.#ended && carry.length === 0) return undefined;
    let buffer = this.#buffer(carry.length < this.#size ? this.#size : carry.length * 2);
    new Uint8Array(buffer).set(carry);
    let filled = carry.length;
    let searched = 0;
    for (;;) {
      if (!this.#ended && filled < buffer.byteLength) {
        ({ buffer, filled } = await this.#read(buffer, filled));
        if (filled < buffer.byteLength && !this.#ended) continue;
      }
      const bytes = new Uint8Array(buffer, 0, filled);
      const newline = bytes.lastIndexOf(0x0a);
      if (newline >= searched) {
        this.#carry = bytes.slice(newline + 1);
        return new Uint8Array(buffer, 0, newline + 1);
      }
      if (this.#ended) {
        this.#carry = new Uint8Array(0);
        return filled > 0 ? bytes : undefined;
      }
      // One line longer than the buffer: a bigger one.
      searched = filled;
      const bigger = new ArrayBuffer(buffer.byteLength * 2);
      new Uint8Array(bigger).set(bytes);
      buffer = bigger;
    }
  }

  /**
   * Gives a block's buffer back, to be read into again.
   *
   * @param buffer The buffer of a block this gave.
   */
  recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.#size && this.#spare.length < 4) this.#spare.push(buffer);
  }

  /**
   * Stops reading (the stream is cancelled).
   *
   * @param reason Why.
   */
  async cancel(reason?: unknown): Promise<void> {
    this.#ended = true;
    this.#carry = new Uint8Array(0);
    this.#ahead = [];
    const source = this.#source;
    if (!source) await this.#stream.cancel(reason).catch(() => {});
    else if ("byob" in source) await source.byob.cancel(reason).catch(() => {});
    else await source.chunks.cancel(reason).catch(() => {});
  }

  #buffer(size: number): ArrayBuffer {
    if (size === this.#size && this.#spare.length > 0) return this.#spare.pop()!;
    return new ArrayBuffer(size);
  }

  /** Reads more bytes into `buffer` after `filled`; `#ended` at the end of the stream. */
  async #read(
    buffer: ArrayBuffer,
    filled: number,
  ): Promise<{ buffer: ArrayBuffer; filled: number }> {
    const source = this.#source ??= sourceOf(this.#stream);
    if ("byob" in source) {
      const { done, value } = await source.byob.read(
        new Uint8Array(buffer, filled, buffer.byteLength - filled),
      );
      // The view's buffer was moved into the read and comes back with it.
      if (value === undefined) throw new TypeError("The NDJSON stream was cancelled");
      if (done) this.#ended = true;
      return { buffer: value.buffer as ArrayBuffer, filled: filled + value.byteLength };
    }
    if (source.rest.length === 0) {
      const next = await source.chunks.read();
      if (next.done) {
        this.#ended = true;
        return { buffer, filled };
      }
      source.rest = next.value;
    }
    const n = Math.min(source.rest.length, buffer.byteLength - filled);
    new Uint8Array(buffer, filled, n).set(source.rest.subarray(0, n));
    source.rest = source.rest.subarray(n);
    return { buffer, filled: filled + n };
  }
}

function sourceOf(stream: ReadableStream<Uint8Array>): Source {
  try {
    return { byob: stream.getReader({ mode: "byob" }) };
  } catch {
    // Not a byte stream.
    return { chunks: stream.getReader(), rest: new Uint8Array(0) };
  }
}
