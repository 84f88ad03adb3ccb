/**
 * Subprocess used by `engine_process_test.ts`: copies files listed in a JSON
 * plan with the pipeline and prints one JSON line per result, then its peak
 * RSS (`VmHWM` from /proc/self/status) as `{"vmhwm_kib": N}`.
 *
 * Usage: deno run -A copy_files.ts PLAN.json [--baseline]
 * Plan: {source_root, destination_root, keys: [{key, sha256, size}], chunk, limit, workers,
 * delay_ms, put_concurrency, destination_url}. With `destination_url` (an `s3://` or
 * `swift://` prefix) the objects go there, the store opened as the CLI opens it; the
 * baseline then also loads that store's driver (one HEAD).
 */
// deno-lint-ignore-file no-console
import { FileStore } from "../../stores/file.ts";
import type { ObjectStore, PutOptions, PutResult } from "../../stores/store.ts";
import { destinationOpenOptions, runTransfers } from "../engine.ts";
import { openLocation } from "../../stores/registry.ts";
import { headOrUndefined } from "../../stores/ext.ts";

interface Plan {
  source_root: string;
  destination_root: string;
  keys: { key: string; sha256?: string; size?: number }[];
  chunk: number;
  limit: number;
  workers: number;
  delay_ms?: number;
  put_concurrency?: number;
  destination_url?: string;
}

function vmHwmKib(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]);
}

/** Slows every chunk of a put down (to give the test time to kill us mid-run). */
function slow(store: FileStore, delayMs: number): ObjectStore {
  return {
    head: (key) => store.head(key),
    get: (key, options) => store.get(key, options),
    delete: (key) => store.delete(key),
    list: (prefix, options) => store.list(prefix, options),
    toString: () => `Slow(${store})`,
    put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult> {
      const delayed = body.pipeThrough(
        new TransformStream({
          async transform(chunk, controller) {
            await new Promise((r) => setTimeout(r, delayMs));
            controller.enqueue(chunk);
          },
        }),
      );
      return store.put(key, delayed, options);
    },
  };
}

const [planPath, mode] = Deno.args;
const plan: Plan = JSON.parse(await Deno.readTextFile(planPath!));
const pipeline = {
  maxWorkers: plan.workers,
  chunkSizeBytes: plan.chunk,
  memoryLimitBytes: plan.limit,
  putMaxConcurrency: plan.put_concurrency,
};
const remote = plan.destination_url === undefined
  ? undefined
  : openLocation(plan.destination_url, destinationOpenOptions(pipeline));
if (mode === "--baseline") {
  if (remote) await headOrUndefined(remote.store, `${remote.key}baseline-probe`);
} else if (mode === "--read-only") {
  // The same bytes read through the source driver and dropped: what the runtime
  // holds for a streaming read with no pipeline at all.
  const source = new FileStore({ root: plan.source_root });
  for (const k of plan.keys) for await (const _ of await source.get(k.key)) { /* drop */ }
} else {
  const source = new FileStore({ root: plan.source_root });
  const files = new FileStore({ root: plan.destination_root });
  const destination = remote?.store ?? (plan.delay_ms ? slow(files, plan.delay_ms) : files);
  const tasks = plan.keys.map((k) => ({
    source: { store: source, key: k.key },
    destination: { store: destination, key: `${remote?.key ?? ""}${k.key}` },
    expected: { sha256: k.sha256, size: k.size },
    ifExists: remote ? "overwrite" as const : undefined,
  }));
  for await (const r of runTransfers(tasks, { ...pipeline, md5: false })) {
    console.log(JSON.stringify({
      key: r.task.source.key,
      status: r.status,
      checksum: r.checksum ?? null,
      error: r.error?.message ?? null,
    }));
  }
}
console.log(JSON.stringify({ vmhwm_kib: vmHwmKib() }));
