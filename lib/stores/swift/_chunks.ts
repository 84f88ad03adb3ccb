import { createHash, type Hash } from "node:crypto";

/**
 * Reads a stream in pieces: a bounded look-ahead, then consecutive sub-streams
 * of at most N bytes each (SLO segments), without holding more than one
 * source chunk besides the look-ahead.
 */
export class ChunkReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array[] = [];
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #next(): Promise<Uint8Array | undefined> {
    const pending = this.#pending.shift();
    if (pending) return pending;
    if (this.#done) return undefined;
    const result = await this.#reader.read();
    if (result.done) {
      this.#done = true;
      return undefined;
    }
    return result.value;
  }

  /** Whether the source has no more bytes. */
  async atEnd(): Promise<boolean> {
    for (;;) {
      const chunk = await this.#next();
      if (chunk === undefined) return true;
      if (chunk.byteLength > 0) {
        this.#pending.unshift(chunk);
        return false;
      }
    }
  }

  /**
   * Reads ahead up to `limit` bytes and keeps them for the next `take`.
   *
   * @returns The bytes read ahead and whether the source ended within them.
   */
  async peek(limit: number): Promise<{ bytes: Uint8Array; ended: boolean }> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < limit) {
      const chunk = await this.#next();
      if (chunk === undefined) break;
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    this.#pending.unshift(...chunks);
    const ended = size < limit;
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.byteLength;
    }
    return { bytes, ended };
  }

  /** A stream of the next `limit` bytes at most (fewer at the end of the source). */
  take(limit: number): ReadableStream<Uint8Array> {
    let remaining = limit;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (remaining <= 0) {
          controller.close();
          return;
        }
        const chunk = await this.#next();
        if (chunk === undefined) {
          controller.close();
          return;
        }
        if (chunk.byteLength > remaining) {
          this.#pending.unshift(chunk.subarray(remaining));
          controller.enqueue(chunk.subarray(0, remaining));
          remaining = 0;
        } else {
          controller.enqueue(chunk);
          remaining -= chunk.byteLength;
        }
      },
    }, { highWaterMark: 0 });
  }

  /** Cancels the source. */
  async cancel(reason?: unknown): Promise<void> {
    try {
      await this.#reader.cancel(reason);
    } catch {
      // already errored or closed
    }
  }
}

/** What {@linkcode measured} observed. */
export interface Measure {
  size: number;
  md5: Hash;
  /** The error the source (or a size check) raised, to rethrow instead of fetch's. */
  error?: unknown;
}

/**
 * Passes `source` through, counting bytes and computing MD5; errors when the
 * size differs from `expected`.
 */
export function measured(
  source: ReadableStream<Uint8Array>,
  expected: number | undefined,
): { stream: ReadableStream<Uint8Array>; measure: Measure } {
  const measure: Measure = { size: 0, md5: createHash("md5") };
  const reader = source.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        measure.error = error;
        throw error;
      }
      if (result.done) {
        if (expected !== undefined && measure.size !== expected) {
          measure.error = new RangeError(
            `Body ended after ${measure.size} bytes: expected ${expected}`,
          );
          controller.error(measure.error);
          return;
        }
        controller.close();
        return;
      }
      measure.size += result.value.byteLength;
      if (expected !== undefined && measure.size > expected) {
        measure.error = new RangeError(`Body is longer than the expected ${expected} bytes`);
        controller.error(measure.error);
        await reader.cancel(measure.error).catch(() => {});
        return;
      }
      measure.md5.update(result.value);
      controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { stream, measure };
}
