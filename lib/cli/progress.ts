/**
 * Progress of a pipeline run: a status line on stderr when it is a terminal
 * (objects, bytes, rate, ETA) and JSON lines for machines.
 *
 * @module
 */
import { formatSize } from "../units.ts";
import { redact } from "../stores/redact.ts";
import type { PipelineEvent } from "../pipeline/engine.ts";
import type { TransferResult } from "../pipeline/transfer.ts";

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /** Where the status line goes. */
  stderr?: WritableStream<Uint8Array> | undefined;
  /** Draw the status line only when true. @default false */
  stderrIsTerminal?: boolean | undefined;
  /** Where JSON lines go (one per object, then a summary); none when unset. */
  json?: WritableStream<Uint8Array> | undefined;
  /** The clock, in milliseconds. @default performance.now */
  now?: (() => number) | undefined;
  /** Least time between two redraws. @default 200 */
  intervalMs?: number | undefined;
}

/** Counters of a run so far. */
export interface ProgressStats {
  /** Objects finished (any status). */
  objects: number;
  /** Objects copied. */
  copied: number;
  /** Objects already at the destination. */
  skipped: number;
  /** Objects that failed. */
  failed: number;
  /** Bytes read from sources. */
  bytes: number;
  /** Objects expected in all, when told. */
  totalObjects: number | undefined;
  /** Bytes expected in all, when told. */
  totalBytes: number | undefined;
  /** Seconds since the start. */
  seconds: number;
}

const encoder = new TextEncoder();

/**
 * Listens to {@linkcode PipelineEvent}s (pass `progress.handle` as the
 * engine's `onEvent`), redraws one status line on a terminal at most every
 * `intervalMs`, and writes a JSON line per finished object and a summary on
 * {@linkcode Progress.close}. Writes are queued in order; `close` waits for them.
 *
 * @example JSON lines for machines
 * ```ts
 * import { Progress } from "./progress.ts";
 * import { equal } from "node:assert/strict";
 * const lines: string[] = [];
 * const json = new WritableStream<Uint8Array>({ write: (b) => void lines.push(new TextDecoder().decode(b)) });
 * const progress = new Progress({ json });
 * progress.handle({ type: "bytes", bytes: 5 });
 * await progress.close();
 * equal(JSON.parse(lines.at(-1)!).event, "summary");
 * equal(JSON.parse(lines.at(-1)!).bytes, 5);
 * ```
 */
export class Progress {
  readonly #options: ProgressOptions;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #queue: Promise<void> = Promise.resolve();
  #drawn = false;
  #stats = { objects: 0, copied: 0, skipped: 0, failed: 0, bytes: 0 };
  #totalObjects: number | undefined;
  #totalBytes: number | undefined;

  /** @param options Sinks and clock. */
  constructor(options: ProgressOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** The counters so far. */
  get stats(): ProgressStats {
    return {
      ...this.#stats,
      totalObjects: this.#totalObjects,
      totalBytes: this.#totalBytes,
      seconds: (this.#now() - this.#start) / 1000,
    };
  }

  /**
   * Adds to the expected totals (for the ETA).
   *
   * @param objects Objects to add.
   * @param bytes Bytes to add.
   */
  expect(objects: number, bytes: number): void {
    this.#totalObjects = (this.#totalObjects ?? 0) + objects;
    this.#totalBytes = (this.#totalBytes ?? 0) + bytes;
  }

  /**
   * Takes one engine event.
   *
   * @param event The event.
   */
  readonly handle = (event: PipelineEvent): void => {
    if (event.type === "bytes") this.#stats.bytes += event.bytes;
    if (event.type === "done") {
      this.#stats.objects++;
      this.#stats[event.result.status]++;
      if (this.#options.json) this.#write(this.#options.json, jsonLine(objectEvent(event.result)));
    }
    this.#draw(false);
  };

  /**
   * The status line as it would be drawn now.
   *
   * @returns E.g. `3/10 objects, 1.5 MiB/4.0 MiB, 2.0 MiB/s, ETA 1s`.
   */
  line(): string {
    const s = this.stats;
    const objects = s.totalObjects === undefined
      ? `${s.objects} objects`
      : `${s.objects}/${s.totalObjects} objects`;
    const bytes = s.totalBytes === undefined
      ? formatSize(s.bytes)
      : `${formatSize(s.bytes)}/${formatSize(s.totalBytes)}`;
    const rate = s.seconds > 0 ? s.bytes / s.seconds : 0;
    let eta = "";
    if (s.totalBytes !== undefined && rate > 0) {
      eta = `, ETA ${formatDuration(Math.max(0, s.totalBytes - s.bytes) / rate)}`;
    }
    const failed = s.failed > 0 ? `, ${s.failed} failed` : "";
    return `${objects}, ${bytes}, ${formatSize(Math.round(rate))}/s${eta}${failed}`;
  }

  /**
   * Draws the final line, writes the summary JSON line, and waits for every write.
   *
   * @returns When all output is written.
   */
  async close(): Promise<void> {
    this.#draw(true);
    if (this.#drawn && this.#options.stderr) this.#write(this.#options.stderr, "\n");
    if (this.#options.json) {
      const { totalObjects: _o, totalBytes: _b, ...summary } = this.stats;
      this.#write(this.#options.json, jsonLine({ event: "summary", ...summary }));
    }
    await this.#queue;
  }

  #draw(force: boolean): void {
    if (!this.#options.stderrIsTerminal || !this.#options.stderr) return;
    const now = this.#now();
    if (!force && now - this.#lastDraw < (this.#options.intervalMs ?? 200)) return;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#write(this.#options.stderr, `\r\x1b[K${this.line()}`);
  }

  #write(stream: WritableStream<Uint8Array>, text: string): void {
    this.#queue = this.#queue.then(async () => {
      const writer = stream.getWriter();
      try {
        await writer.write(encoder.encode(text));
      } finally {
        writer.releaseLock();
      }
    });
  }
}

/**
 * The JSON-lines record of one finished object.
 *
 * @param result The transfer result.
 * @returns A plain object with `event: "object"`.
 */
export function objectEvent(result: TransferResult): Record<string, unknown> {
  const { task } = result;
  return {
    event: "object",
    source: `${task.source.store}/${task.source.key}`,
    destination: `${task.destination.store}/${task.destination.key}`,
    status: result.status,
    size: result.size ?? null,
    checksum: result.checksum ?? null,
    attempts: result.attempts,
    error: result.error ? redact(result.error.message.split("\n")[0] ?? "") : null,
  };
}

function jsonLine(value: unknown): string {
  return JSON.stringify(value) + "\n";
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
