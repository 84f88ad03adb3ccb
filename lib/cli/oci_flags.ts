/**
 * The flags every `oci://` command shares (`--plain-http`, `--insecure`,
 * `--auth-backend token|basic`, `--concurrency N`), read into registry
 * options. Kept apart from the commands so `ferry inspect` can accept them
 * without loading the OCI client.
 *
 * @module
 */
import type { ArgSpec, ParsedArgs } from "./parse_args.ts";

/** The flag spec of the registry flags. */
export const OCI_FLAGS: ArgSpec = {
  string: ["auth-backend", "concurrency"],
  boolean: ["plain-http", "insecure"],
};

/** Their usage text. */
export const OCI_USAGE =
  "[--plain-http] [--insecure] [--auth-backend token|basic] [--concurrency N]";

/**
 * A command's flag spec with the registry flags added.
 *
 * @example
 * ```ts
 * import { withOciFlags } from "./oci_flags.ts";
 * import { ok } from "node:assert/strict";
 * ok(withOciFlags({ string: ["format"] }).boolean?.includes("plain-http"));
 * ```
 *
 * @param spec The command's own flags.
 * @returns The merged spec.
 */
export function withOciFlags(spec: ArgSpec): ArgSpec {
  return {
    ...spec,
    string: [...(spec.string ?? []), ...OCI_FLAGS.string!],
    boolean: [...(spec.boolean ?? []), ...OCI_FLAGS.boolean!],
  };
}

/** The registry options the flags set. */
export interface OciFlagValues {
  /** `--plain-http`. */
  plainHttp: boolean;
  /** `--insecure`. */
  insecure: boolean;
  /** `--auth-backend`. */
  authBackend: "token" | "basic";
  /** `--concurrency`, when given. */
  concurrency?: number;
}

/**
 * Reads the registry flags.
 *
 * @example
 * ```ts
 * import { parseOciFlags } from "./oci_flags.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(parseOciFlags({ _: [], "plain-http": true, concurrency: "2" }), {
 *   plainHttp: true, insecure: false, authBackend: "token", concurrency: 2,
 * });
 * throws(() => parseOciFlags({ _: [], "auth-backend": "oauth" }), TypeError);
 * ```
 *
 * @param args Parsed arguments.
 * @returns The options.
 * @throws {TypeError} On an unknown `--auth-backend`.
 * @throws {SyntaxError} On a `--concurrency` that is not a positive integer.
 */
export function parseOciFlags(args: ParsedArgs): OciFlagValues {
  const backend = args["auth-backend"] ?? "token";
  if (backend !== "token" && backend !== "basic") {
    throw new TypeError(`Invalid --auth-backend "${String(backend)}": expected token or basic`);
  }
  const out: OciFlagValues = {
    plainHttp: args["plain-http"] === true,
    insecure: args.insecure === true,
    authBackend: backend,
  };
  const concurrency = args.concurrency;
  if (concurrency !== undefined) {
    if (typeof concurrency !== "string" || !/^\s*[1-9]\d*\s*$/.test(concurrency)) {
      throw new SyntaxError(
        `Invalid --concurrency "${String(concurrency)}": expected a positive integer`,
      );
    }
    out.concurrency = Number(concurrency);
  }
  return out;
}

/**
 * Refuses registry flags on a command line that names no `oci://` reference.
 *
 * @param args Parsed arguments.
 * @param target The positional argument they would apply to.
 * @throws {TypeError} Naming the first registry flag given.
 */
export function rejectOciFlags(args: ParsedArgs, target: string): void {
  const given = [...OCI_FLAGS.string!, ...OCI_FLAGS.boolean!].find((f) =>
    args[f] !== undefined && args[f] !== false
  );
  if (given) {
    throw new TypeError(`Invalid --${given} for "${target}": it applies to oci:// references only`);
  }
}
