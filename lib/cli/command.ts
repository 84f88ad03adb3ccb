/**
 * The shape of a CLI command row and the shared output writer and exit-code
 * table.
 *
 * @module
 */
import {
  ConflictError,
  InvalidInputError,
  isRuntimePermissionFailure,
  NotFoundError,
  PermissionDeniedError,
  TransientError,
} from "../stores/errors.ts";
import { redact } from "../stores/redact.ts";
import type { ArgSpec, ParsedArgs } from "./parse_args.ts";
import { withFlagNames } from "./flag_names.ts";

/** Where a command writes. Tests pass their own to capture output. */
export interface CommandIO {
  /** Standard input. */
  stdin: ReadableStream<Uint8Array>;
  /** Standard output. */
  stdout: WritableStream<Uint8Array>;
  /** Standard error. */
  stderr: WritableStream<Uint8Array>;
  /** Whether stdout is a terminal (previews instead of machine output). */
  stdoutIsTerminal: boolean;
  /** Whether stderr is a terminal (progress display). */
  stderrIsTerminal: boolean;
}

/** One row of the command table. */
export interface Command {
  /** Words that select it, e.g. `["store", "ls"]`. */
  name: readonly string[];
  /** One line for the help text. */
  summary: string;
  /** Usage after the name, e.g. `URL [--recursive]`. */
  usage: string;
  /** Flags. */
  args: ArgSpec;
  /** Runs the command; returns the exit code. */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}

/** Exit codes, one per error class. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  permission: 4,
  conflict: 5,
  transient: 6,
} as const;

/**
 * The exit code for an error thrown by a command.
 *
 * @param error Anything thrown.
 * @returns The exit code.
 */
export function exitCodeFor(error: unknown): number {
  // A wrapper ("Cannot validate item …") exits as the store failure it wraps.
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = storeExitCode(cause);
    if (code !== undefined) return code;
  }
  if (
    error instanceof InvalidInputError || error instanceof TypeError ||
    error instanceof RangeError || error instanceof SyntaxError
  ) return EXIT.usage;
  return EXIT.failed;
}

function storeExitCode(error: Error): number | undefined {
  if (error instanceof NotFoundError) return EXIT.notFound;
  if (error instanceof PermissionDeniedError || isRuntimePermissionFailure(error)) {
    return EXIT.permission;
  }
  if (error instanceof ConflictError) return EXIT.conflict;
  if (error instanceof TransientError) return EXIT.transient;
  return undefined;
}

/**
 * One line describing an error for stderr, without secrets or stack.
 *
 * @param error Anything thrown.
 * @returns The line.
 */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redact(withFlagNames(message.split("\n")[0] ?? ""));
}

const encoder = new TextEncoder();

/**
 * Writes text to a stream without closing it.
 *
 * @param stream The stream (stdout, stderr).
 * @param text The text.
 */
export async function writeText(stream: WritableStream<Uint8Array>, text: string): Promise<void> {
  const writer = stream.getWriter();
  try {
    await writer.write(encoder.encode(text));
  } finally {
    writer.releaseLock();
  }
}

/**
 * Writes one JSON object as a line.
 *
 * @param stream The stream.
 * @param value The value.
 */
export function writeJsonLine(stream: WritableStream<Uint8Array>, value: unknown): Promise<void> {
  return writeText(stream, JSON.stringify(value) + "\n");
}

/**
 * The first positional argument, or a usage error naming it.
 *
 * @param args Parsed args.
 * @param index Position.
 * @param name What it is, for the error.
 * @returns The value.
 */
export function positional(args: ParsedArgs, index: number, name: string): string {
  const value = args._[index];
  if (value === undefined) throw new TypeError(`Missing argument ${name}`);
  return value;
}
