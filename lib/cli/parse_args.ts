/**
 * A small declarative flag parser in the shape of std's `parseArgs`: string,
 * boolean, collect (repeatable), negatable (`--no-x`) and aliases, strict
 * about unknown flags.
 *
 * @module
 */

/** What a command accepts. */
export interface ArgSpec {
  /** Flags that take a value. */
  string?: readonly string[];
  /** Flags without a value. */
  boolean?: readonly string[];
  /** String flags that may repeat; their values are collected into arrays. */
  collect?: readonly string[];
  /** Boolean flags that also accept `--no-NAME`. */
  negatable?: readonly string[];
  /** Short or alternative names. */
  alias?: Readonly<Record<string, string>>;
  /** Defaults. */
  default?: Readonly<Record<string, string | boolean | string[]>>;
}

/** The parsed flags and the positional arguments. */
export interface ParsedArgs {
  /** Positional arguments, in order. */
  _: string[];
  /** Flag values by name. */
  [flag: string]: string | boolean | string[] | undefined;
}

/** A usage error: unknown flag, missing value. */
export class UsageError extends TypeError {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses `args` against `spec`. `--` ends flags.
 *
 * @example Collecting a repeatable flag
 * ```ts
 * import { parseArgs } from "./parse_args.ts";
 * import { deepEqual } from "node:assert/strict";
 * const a = parseArgs(["x", "--item-ids", "a", "--item-ids=b", "--no-probe-metadata"], {
 *   collect: ["item-ids"], negatable: ["probe-metadata"], default: { "probe-metadata": true },
 * });
 * deepEqual(a._, ["x"]);
 * deepEqual(a["item-ids"], ["a", "b"]);
 * deepEqual(a["probe-metadata"], false);
 * ```
 *
 * @param args The arguments.
 * @param spec The accepted flags.
 * @returns Flags and positionals.
 * @throws {UsageError} On an unknown flag or a missing value.
 */
export function parseArgs(args: readonly string[], spec: ArgSpec): ParsedArgs {
  const strings = new Set(spec.string ?? []);
  const collects = new Set(spec.collect ?? []);
  const booleans = new Set([...(spec.boolean ?? []), ...(spec.negatable ?? [])]);
  const negatable = new Set(spec.negatable ?? []);
  const out: ParsedArgs = { _: [] };
  for (const [k, v] of Object.entries(spec.default ?? {})) out[k] = Array.isArray(v) ? [...v] : v;
  for (const c of collects) if (out[c] === undefined) out[c] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out._.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out._.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = arg.replace(/^--?/, "").slice(
      0,
      eq === -1 ? undefined : eq - (arg.startsWith("--") ? 2 : 1),
    );
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    name = spec.alias?.[name] ?? name;
    if (name.startsWith("no-") && negatable.has(name.slice(3))) {
      if (inline !== undefined) throw new UsageError(`Flag "--${name}" takes no value`);
      out[name.slice(3)] = false;
      continue;
    }
    if (booleans.has(name)) {
      if (inline !== undefined && !/^(true|false)$/.test(inline)) {
        throw new UsageError(`Flag "--${name}" takes no value, got "${inline}"`);
      }
      out[name] = inline === undefined ? true : inline === "true";
      continue;
    }
    if (strings.has(name) || collects.has(name)) {
      if (inline === undefined) {
        inline = args[++i];
        if (inline === undefined) throw new UsageError(`Flag "--${name}" needs a value`);
      }
      if (collects.has(name)) (out[name] as string[]).push(inline);
      else out[name] = inline;
      continue;
    }
    throw new UsageError(`Unknown flag "${arg.slice(0, eq === -1 ? undefined : eq)}"`);
  }
  return out;
}

/**
 * A flag's value as a positive integer.
 *
 * @param name The flag, without `--`.
 * @param value Its value.
 * @returns The integer.
 * @throws {RangeError} For anything else.
 */
export function positiveIntegerFlag(name: string, value: string | boolean | string[]): number {
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) {
    throw new RangeError(`Invalid --${name} "${String(value)}": expected a positive integer`);
  }
  return n;
}
