/**
 * The pipeline flags every byte-moving command shares: `--max-workers`,
 * `--chunk-size-bytes`, `--memory-limit-bytes`, `--put-max-concurrency`.
 *
 * @module
 */
import type { ArgSpec, ParsedArgs } from "./parse_args.ts";
import { parseSize } from "../units.ts";
import { withFlagNames } from "./flag_names.ts";
import { checkPipelineOptions, type PipelineOptions } from "../pipeline/engine.ts";

/** The flag spec to merge into a command's own (see {@linkcode withPipelineFlags}). */
export const PIPELINE_FLAGS: ArgSpec = {
  string: ["max-workers", "chunk-size-bytes", "memory-limit-bytes", "put-max-concurrency"],
};

/** The usage text of the pipeline flags. */
export const PIPELINE_USAGE =
  "[--max-workers N] [--chunk-size-bytes SIZE] [--memory-limit-bytes SIZE] [--put-max-concurrency N]";

/**
 * A command's flag spec with the pipeline flags added.
 *
 * @example
 * ```ts
 * import { withPipelineFlags } from "./pipeline_flags.ts";
 * import { ok } from "node:assert/strict";
 * ok(withPipelineFlags({ boolean: ["dry-run"] }).string?.includes("max-workers"));
 * ```
 *
 * @param spec The command's own flags.
 * @returns The merged spec.
 */
export function withPipelineFlags(spec: ArgSpec): ArgSpec {
  return { ...spec, string: [...(spec.string ?? []), ...PIPELINE_FLAGS.string!] };
}

/**
 * Reads the pipeline flags from parsed arguments: counts as integers, sizes
 * with units (`8MiB`, `1.5GB`, plain bytes); checked together (a memory
 * limit below one chunk is an error).
 *
 * @example
 * ```ts
 * import { parsePipelineFlags } from "./pipeline_flags.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(
 *   parsePipelineFlags({ _: [], "max-workers": "2", "chunk-size-bytes": "1MiB", "memory-limit-bytes": "4MiB" }),
 *   { maxWorkers: 2, chunkSizeBytes: 1048576, memoryLimitBytes: 4194304 },
 * );
 * throws(() => parsePipelineFlags({ _: [], "chunk-size-bytes": "8MiB", "memory-limit-bytes": "1MiB" }), RangeError);
 * ```
 *
 * @param args Parsed arguments.
 * @returns The options given (unset flags are left out, so defaults apply).
 * @throws {SyntaxError} On a value that is not a number or size, naming the flag.
 * @throws {RangeError} On a zero or negative value, or a limit below one chunk.
 */
export function parsePipelineFlags(args: ParsedArgs): PipelineOptions {
  const out: PipelineOptions = {};
  const count = (name: string): number | undefined => {
    const text = args[name];
    if (text === undefined) return undefined;
    if (typeof text !== "string" || !/^\s*\d+\s*$/.test(text)) {
      throw new SyntaxError(`Invalid --${name} "${String(text)}": expected a positive integer`);
    }
    return Number(text);
  };
  const size = (name: string): number | undefined => {
    const text = args[name];
    if (text === undefined) return undefined;
    return parseSize(String(text), `--${name}`);
  };
  const maxWorkers = count("max-workers");
  const chunkSizeBytes = size("chunk-size-bytes");
  const memoryLimitBytes = size("memory-limit-bytes");
  const putMaxConcurrency = count("put-max-concurrency");
  if (maxWorkers !== undefined) out.maxWorkers = maxWorkers;
  if (chunkSizeBytes !== undefined) out.chunkSizeBytes = chunkSizeBytes;
  if (memoryLimitBytes !== undefined) out.memoryLimitBytes = memoryLimitBytes;
  if (putMaxConcurrency !== undefined) out.putMaxConcurrency = putMaxConcurrency;
  try {
    checkPipelineOptions(out);
  } catch (error) {
    if (error instanceof RangeError) throw new RangeError(withFlagNames(error.message));
    throw error;
  }
  return out;
}
