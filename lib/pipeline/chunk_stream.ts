/**
 * Re-chunks a byte stream into chunk-size parts, each charged to a memory
 * budget while it may still be in memory.
 *
 * @module
 */

/** The part of {@linkcode MemoryBudget} a chunk stream needs. */
export interface BudgetLike {
  /** Waits until `bytes` fit, then takes them. */
  acquire(bytes: number, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Gives `bytes` back. */
  release(bytes: number): void;
}

/** Options of {@linkcode ChunkStream}. */
export interface ChunkStreamOptions {
  /** Where each chunk's bytes are charged. */
  budget: BudgetLike;
  /** Bytes per chunk (the last one may be shorter). */
  chunkSizeBytes: number;
  /**
   * How many chunks the consumer may still hold in memory when it asks for
   * another one: a chunk stays charged until the consumer has asked for this
   * many more. Piping into a writable of high-water mark 1 behind one
   * `TransformStream` (the file driver's put) holds two: one being written,
   * one queued.
   * @default 2
   */
  consumerHoldsChunks?: number | undefined;
  /** The total input size when known: the last chunk is charged only what it holds. */
  totalBytes?: number | undefined;
  /** Abandons a wait for budget. */
  signal?: AbortSignal | undefined;
}

/**
 * The bytes that one object can have charged at once through a
 * {@linkcode ChunkStream}: the chunks the consumer holds, the one handed
 * over, and the one being filled.
 *
 * @example
 * ```ts
 * import { chunkStreamWorkingSet } from "./chunk_stream.ts";
 * import { equal } from "node:assert/strict";
 * equal(chunkStreamWorkingSet(1024, 2), 4096);
 * ```
 *
 * @param chunkSizeBytes Bytes per chunk.
 * @param consumerHoldsChunks As in {@linkcode ChunkStreamOptions}.
 * @returns The most bytes charged at once.
 */
export function chunkStreamWorkingSet(chunkSizeBytes: number, consumerHoldsChunks = 2): number {
  return chunkSizeBytes * (consumerHoldsChunks + 2);
}

/**
 * A `{ writable, readable }` pair for `pipeThrough` that turns pieces of any
 * size into chunks of `chunkSizeBytes` (the last may be shorter). Before it
 * allocates a chunk it acquires the chunk's bytes from the budget; it releases
 * them once the consumer has asked for `consumerHoldsChunks` more chunks, or
 * on {@linkcode ChunkStream.releaseAll} (call it when the consumer, e.g. a
 * `put`, has settled), or when the consumer cancels. It reads ahead by one
 * chunk at most and never buffers more than one chunk of its own; a piece
 * larger than a chunk is split.
 *
 * Cancelling the readable side errors the writable side, so a pipe from the
 * source cancels the source.
 *
 * @example Four bytes in chunks of two
 * ```ts
 * import { ChunkStream } from "./chunk_stream.ts";
 * import { MemoryBudget } from "./memory_budget.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const budget = new MemoryBudget(8);
 * const chunks = new ChunkStream({ budget, chunkSizeBytes: 2 });
 * const sizes: number[] = [];
 * const source = new Blob([new Uint8Array([1]), new Uint8Array([2, 3, 4])]).stream();
 * for await (const c of source.pipeThrough(chunks)) sizes.push(c.byteLength);
 * chunks.releaseAll();
 * deepEqual(sizes, [2, 2]);
 * equal(budget.inUseBytes, 0);
 * ```
 */
export class ChunkStream implements ReadableWritablePair<Uint8Array, Uint8Array> {
  /** Where the chunks come out. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Where the bytes go in. */
  readonly writable: WritableStream<Uint8Array>;
  readonly #budget: BudgetLike;
  readonly #chunkSize: number;
  readonly #holds: number;
  readonly #signal: AbortSignal | undefined;
  #remaining: number | undefined;
  #current: Uint8Array | undefined;
  #filled = 0;
  /** Charges of chunks handed over and not yet released, oldest first. */
  readonly #delivered: number[] = [];
  #pullWaiter: (() => void) | undefined;
  #pullPending = false;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #failure: { reason: unknown } | undefined;
  #failWriter: ((reason: unknown) => void) | undefined;
  readonly #onAbort: () => void;

  /**
   * Creates a `ChunkStream`
   *
   * @param options Budget, chunk size, consumer holding, total size, signal.
   * @throws {RangeError} When the chunk size or holding count is not valid.
   */
  constructor(options: ChunkStreamOptions) {
    const { chunkSizeBytes } = options;
    if (!Number.isSafeInteger(chunkSizeBytes) || chunkSizeBytes < 1) {
      throw new RangeError(`Invalid chunk size ${chunkSizeBytes}: expected a positive integer`);
    }
    const holds = options.consumerHoldsChunks ?? 2;
    if (!Number.isSafeInteger(holds) || holds < 0) {
      throw new RangeError(`Invalid consumerHoldsChunks ${holds}: expected an integer >= 0`);
    }
    this.#budget = options.budget;
    this.#chunkSize = chunkSizeBytes;
    this.#holds = holds;
    this.#signal = options.signal;
    this.#remaining = options.totalBytes;
    this.#onAbort = () => {
      this.#fail(this.#signal?.reason);
      try {
        this.#controller.error(this.#signal?.reason);
      } catch {
        // already closed or errored
      }
    };
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => {
        this.#pullPending = true;
        while (this.#delivered.length > this.#holds) {
          this.#budget.release(this.#delivered.shift()!);
        }
        const waiter = this.#pullWaiter;
        this.#pullWaiter = undefined;
        waiter?.();
      },
      cancel: (reason) => {
        this.#fail(reason ?? new DOMException("The chunk stream was cancelled", "AbortError"));
        this.releaseAll();
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: (piece) => this.#write(piece),
      close: async () => {
        this.#throwIfFailed();
        if (this.#current && this.#filled > 0) {
          await this.#emit(this.#current.subarray(0, this.#filled));
        }
        this.#throwIfFailed();
        this.#controller.close();
      },
      abort: (reason) => {
        this.#fail(reason);
        try {
          this.#controller.error(reason);
        } catch {
          // already closed or errored
        }
      },
    });
  }

  /** Bytes charged now for this stream (chunks held by the consumer and the one being filled). */
  get heldBytes(): number {
    return this.#delivered.reduce((a, b) => a + b, 0) + (this.#current?.byteLength ?? 0);
  }

  /**
   * Releases every charge: call once the consumer is done with all chunks
   * (its `put` resolved or rejected). Safe to call more than once.
   */
  releaseAll(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    while (this.#delivered.length > 0) this.#budget.release(this.#delivered.shift()!);
    if (this.#current) {
      this.#budget.release(this.#current.byteLength);
      this.#current = undefined;
      this.#filled = 0;
    }
  }

  async #write(piece: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < piece.byteLength) {
      this.#throwIfFailed();
      if (!this.#current) {
        const size = this.#remaining === undefined
          ? this.#chunkSize
          : Math.max(1, Math.min(this.#chunkSize, this.#remaining));
        await this.#acquire(size);
        if (offset === 0 && piece.byteLength === size) {
          // A piece that is exactly the next chunk goes on as it is: no
          // second buffer, no copy (a source reading chunk-size pieces).
          this.#current = piece;
          this.#filled = size;
          offset = size;
          if (this.#remaining !== undefined) this.#remaining = Math.max(0, this.#remaining - size);
          await this.#emit(piece);
          continue;
        }
        this.#current = new Uint8Array(size);
        this.#filled = 0;
      }
      const n = Math.min(piece.byteLength - offset, this.#current.byteLength - this.#filled);
      this.#current.set(piece.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#remaining !== undefined) this.#remaining = Math.max(0, this.#remaining - n);
      if (this.#filled === this.#current.byteLength) await this.#emit(this.#current);
    }
  }

  async #acquire(bytes: number): Promise<void> {
    const failed = new Promise<never>((_, reject) => {
      this.#failWriter = reject;
    });
    failed.catch(() => {});
    const grant = this.#budget.acquire(bytes, { signal: this.#signal });
    try {
      await Promise.race([grant, failed]);
    } catch (error) {
      // A grant that lands after a failure must not leak.
      grant.then(() => this.#budget.release(bytes), () => {});
      throw error;
    } finally {
      this.#failWriter = undefined;
    }
  }

  async #emit(chunk: Uint8Array): Promise<void> {
    while (!this.#pullPending) {
      this.#throwIfFailed();
      await new Promise<void>((resolve, reject) => {
        this.#pullWaiter = resolve;
        this.#failWriter = reject;
      });
      this.#failWriter = undefined;
    }
    this.#throwIfFailed();
    this.#pullPending = false;
    const charge = this.#current!.byteLength;
    this.#current = undefined;
    this.#filled = 0;
    this.#delivered.push(charge);
    this.#controller.enqueue(chunk);
  }

  #fail(reason: unknown): void {
    this.#failure ??= { reason };
    const reject = this.#failWriter;
    this.#failWriter = undefined;
    reject?.(reason);
    if (this.#current) {
      this.#budget.release(this.#current.byteLength);
      this.#current = undefined;
      this.#filled = 0;
    }
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.reason;
  }
}
