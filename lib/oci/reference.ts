/**
 * `oci://host[:port]/repository[:tag][@sha256:digest]` references: parsed,
 * checked against the distribution grammar, and formatted back.
 *
 * @module
 */

/** A parsed OCI reference. */
export interface OciReference {
  /** `host[:port]` (an IPv6 host in brackets). */
  registry: string;
  /** The repository path, e.g. `team/pkg`. */
  repository: string;
  /** The tag: the one given, or `latest` when neither a tag nor a digest was given. */
  tag?: string | undefined;
  /** `sha256:` + 64 hex digits, when given (it wins over the tag). */
  digest?: string | undefined;
}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The tag a reference without tag or digest names. */
export const DEFAULT_TAG = "latest";

function invalid(input: string, why: string, at: number): SyntaxError {
  return new SyntaxError(`Invalid OCI reference "${input}": ${why} (character ${at + 1})`);
}

/**
 * Parses an `oci://` reference. The tag defaults to `latest` when neither a
 * tag nor a digest is given.
 *
 * @example Tags, digests and the default tag
 * ```ts
 * import { parseReference } from "./reference.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(parseReference("oci://127.0.0.1:5000/team/pkg"), {
 *   registry: "127.0.0.1:5000", repository: "team/pkg", tag: "latest", digest: undefined,
 * });
 * deepEqual(parseReference("oci://reg.example/pkg:v1").tag, "v1");
 * throws(() => parseReference("oci://reg.example/Pkg"), SyntaxError);
 * ```
 *
 * @param input The reference, starting `oci://`.
 * @returns The parts.
 * @throws {SyntaxError} Naming the input and the character where it goes wrong.
 */
export function parseReference(input: string): OciReference {
  const scheme = "oci://";
  if (!input.startsWith(scheme)) throw invalid(input, 'expected it to start with "oci://"', 0);
  const rest = input.slice(scheme.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) {
    throw invalid(
      input,
      slash === 0 ? "missing registry host" : "missing repository after the host",
      slash === 0 ? scheme.length : scheme.length + rest.length,
    );
  }
  const registry = rest.slice(0, slash);
  if (!HOST.test(registry)) {
    throw invalid(input, `registry "${registry}" is not a host[:port]`, scheme.length);
  }
  let name = rest.slice(slash + 1);
  const nameAt = scheme.length + slash + 1;
  let digest: string | undefined;
  const at = name.indexOf("@");
  if (at !== -1) {
    digest = name.slice(at + 1);
    if (!DIGEST.test(digest)) {
      throw invalid(
        input,
        `digest "${digest}" is not sha256: + 64 lower-case hex digits`,
        nameAt + at + 1,
      );
    }
    name = name.slice(0, at);
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) {
    tag = name.slice(colon + 1);
    if (!TAG.test(tag)) {
      throw invalid(
        input,
        `tag "${tag}" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`,
        nameAt + colon + 1,
      );
    }
    name = name.slice(0, colon);
  }
  let offset = nameAt;
  for (const component of name.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(
        input,
        `repository part "${component}" must be lower-case letters and digits, joined by ".", "_", "__" or "-"`,
        offset,
      );
    }
    offset += component.length + 1;
  }
  if (name.length > 255) throw invalid(input, "repository is longer than 255 characters", nameAt);
  return {
    registry,
    repository: name,
    tag: tag ?? (digest === undefined ? DEFAULT_TAG : undefined),
    digest,
  };
}

/**
 * The reference as text, `oci://registry/repository[:tag][@digest]`.
 *
 * @example
 * ```ts
 * import { formatReference } from "./reference.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatReference({ registry: "r:5000", repository: "a/b", tag: "v1" }), "oci://r:5000/a/b:v1");
 * ```
 *
 * @param ref The parts.
 * @returns The text.
 */
export function formatReference(ref: OciReference): string {
  return `oci://${ref.registry}/${ref.repository}${ref.tag === undefined ? "" : `:${ref.tag}`}${
    ref.digest === undefined ? "" : `@${ref.digest}`
  }`;
}

/**
 * What the registry's manifest endpoint is asked for: the digest when given, else the tag.
 *
 * @param ref The parts.
 * @returns A digest or a tag.
 */
export function manifestReference(ref: OciReference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}
