/**
 * gzip as a pipeline stage that compresses on another core: the chunks go to
 * a worker (`gzip_worker.ts`) and come back compressed, so the thread that
 * packs, hashes and uploads does not also deflate. Where no worker can run
 * (a build without the worker's module, no permission to read it) it
 * compresses on this thread with `CompressionStream`; the bytes are the
 * same either way.
 *
 * @module
 */

/** Options of {@linkcode GzipStream}. */
export interface GzipStreamOptions {
  /**
   * Bytes sent to the worker and not yet taken by its compressor, at most:
   * what this stage buffers of its own.
   * @default 4 MiB
   */
  maxInFlightBytes?: number | undefined;
  /** Compress on this thread even where a worker could run. @default false */
  inThread?: boolean | undefined;
}

/** The most {@linkcode GzipStream} holds of its own by default. */
export const GZIP_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

const WORKER_URL = new URL("./gzip_worker.ts", import.meta.url);

/** Whether the worker's module is there to be started (checked once). */
let workerAvailable: boolean | undefined;

function canStartWorker(): boolean {
  if (workerAvailable === undefined) {
    try {
      if (WORKER_URL.protocol === "file:") Deno.statSync(WORKER_URL);
      workerAvailable = typeof Worker === "function";
    } catch {
      workerAvailable = false;
    }
  }
  return workerAvailable;
}

/**
 * A `{ writable, readable }` pair for `pipeThrough` that gzips what passes
 * (see the module doc). It holds at most `maxInFlightBytes` of input of its
 * own; the compressed output is handed on as the worker returns it.
 *
 * @example Round trip
 * ```ts
 * import { GzipStream } from "./gzip_stream.ts";
 * import { equal } from "node:assert/strict";
 * const gz = new Blob(["hello ".repeat(1000)]).stream().pipeThrough(new GzipStream());
 * const text = await new Response(new Response(gz).body!.pipeThrough(new DecompressionStream("gzip")))
 *   .text();
 * equal(text.length, 6000);
 * ```
 */
export class GzipStream extends TransformStream<Uint8Array, Uint8Array> {
  /** @param options In-flight limit; whether to stay on this thread. */
  constructor(options: GzipStreamOptions = {}) {
    if (options.inThread || !canStartWorker()) {
      const inThread = new CompressionStream("gzip") as unknown as TransformStream<
        Uint8Array,
        Uint8Array
      >;
      super();
      return inThread as GzipStream;
    }
    const limit = options.maxInFlightBytes ?? GZIP_IN_FLIGHT_BYTES;
    let worker: Worker;
    let inFlight = 0;
    let wake: (() => void) | undefined;
    let failure: Error | undefined;
    let finished: { resolve: () => void; reject: (error: Error) => void } | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      wake?.();
      finished?.reject(failure);
    };
    super({
      start(controller) {
        worker = new Worker(WORKER_URL.href, { type: "module" });
        worker.onmessage = (
          event: MessageEvent<
            { out?: Uint8Array; taken?: number; done?: boolean; failure?: string }
          >,
        ) => {
          const message = event.data;
          if (message.out) controller.enqueue(message.out);
          else if (message.taken !== undefined) {
            inFlight -= message.taken;
            wake?.();
          } else if (message.done) finished?.resolve();
          else if (message.failure) fail(new Error(`gzip failed: ${message.failure}`));
        };
        worker.onerror = (event) => {
          event.preventDefault();
          fail(new Error(`gzip worker failed: ${event.message}`));
        };
      },
      async transform(chunk) {
        while (inFlight > 0 && inFlight + chunk.byteLength > limit && !failure) {
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
        }
        if (failure) throw failure;
        // A copy is moved: the producer may still hold views of its chunk's buffer.
        const copy = chunk.slice();
        inFlight += copy.byteLength;
        worker.postMessage({ chunk: copy }, [copy.buffer]);
      },
      async flush() {
        if (failure) throw failure;
        const done = new Promise<void>((resolve, reject) => finished = { resolve, reject });
        worker.postMessage({ end: true });
        try {
          await done;
        } finally {
          worker.terminate();
        }
      },
      cancel() {
        worker.terminate();
      },
    });
  }
}
