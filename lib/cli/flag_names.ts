/**
 * The engine names its options (`memoryLimitBytes`); a command line user
 * typed flags (`--memory-limit-bytes`). Messages are shown in flag names.
 *
 * @module
 */

const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  maxWorkers: "--max-workers",
  chunkSizeBytes: "--chunk-size-bytes",
  memoryLimitBytes: "--memory-limit-bytes",
  putMaxConcurrency: "--put-max-concurrency",
};

/**
 * A pipeline message with each option name replaced by the flag that sets it,
 * so a command line user reads the flag they typed.
 *
 * @example
 * ```ts
 * import { withFlagNames } from "./flag_names.ts";
 * import { equal } from "node:assert/strict";
 * equal(withFlagNames("Invalid maxWorkers 0"), "Invalid --max-workers 0");
 * ```
 *
 * @param message The engine's message.
 * @returns The message in flag names.
 */
export function withFlagNames(message: string): string {
  return message.replace(
    /\b(maxWorkers|chunkSizeBytes|memoryLimitBytes|putMaxConcurrency)\b/g,
    (name) => FLAG_OF_OPTION[name] ?? name,
  );
}
