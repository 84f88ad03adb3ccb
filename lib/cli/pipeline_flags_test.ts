import { deepEqual, throws } from "node:assert/strict";
import { parseArgs } from "./parse_args.ts";
import { parsePipelineFlags, withPipelineFlags } from "./pipeline_flags.ts";

const spec = withPipelineFlags({ boolean: ["dry-run"] });

Deno.test("parsePipelineFlags() reads counts and sizes with units", () => {
  const args = parseArgs([
    "--max-workers=8",
    "--chunk-size-bytes",
    "8MiB",
    "--memory-limit-bytes=1GB",
    "--put-max-concurrency",
    "2",
    "--dry-run",
  ], spec);
  deepEqual(parsePipelineFlags(args), {
    maxWorkers: 8,
    chunkSizeBytes: 8 * 1024 * 1024,
    memoryLimitBytes: 1e9,
    putMaxConcurrency: 2,
  });
  deepEqual(parsePipelineFlags(parseArgs([], spec)), {});
});

Deno.test("parsePipelineFlags() names the flag of a bad value", () => {
  throws(
    () => parsePipelineFlags(parseArgs(["--max-workers=two"], spec)),
    /Invalid --max-workers "two"/,
  );
  throws(() => parsePipelineFlags(parseArgs(["--max-workers=0"], spec)), /Invalid --max-workers 0/);
  throws(
    () => parsePipelineFlags(parseArgs(["--chunk-size-bytes=8 parsecs"], spec)),
    /Invalid --chunk-size-bytes "8 parsecs"/,
  );
  throws(
    () => parsePipelineFlags(parseArgs(["--put-max-concurrency=-1"], spec)),
    /Invalid --put-max-concurrency "-1"/,
  );
  throws(
    () =>
      parsePipelineFlags(parseArgs(["--chunk-size-bytes=8MiB", "--memory-limit-bytes=4MiB"], spec)),
    /Invalid --memory-limit-bytes 4194304: below one chunk \(--chunk-size-bytes 8388608\)/,
  );
  throws(() => parsePipelineFlags(parseArgs(["--memory-limit-bytes=0"], spec)), RangeError);
});
