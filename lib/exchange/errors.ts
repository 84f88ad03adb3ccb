/**
 * The failures of manifest exchange that callers catch by class, as
 * s3exchange names them: a manifest that is not there, one with a bad line,
 * a key template with a missing placeholder, a shard that cannot be read.
 *
 * @module
 */

/** Options of the exchange errors. */
export interface ExchangeErrorOptions {
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A manifest (the one named, or one a `manifest_ref` points to) does not exist.
 *
 * @example
 * ```ts
 * import { ManifestNotFoundError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * const error = new ManifestNotFoundError("a/manifest.jsonl", { referencedBy: "root.jsonl" });
 * equal(error.message, 'Manifest not found: "a/manifest.jsonl" (referenced by "root.jsonl")');
 * ```
 */
export class ManifestNotFoundError extends Error {
  /** The missing manifest's key. */
  readonly key: string;
  /** The manifest whose `manifest_ref` named it, if any. */
  readonly referencedBy: string | undefined;

  /**
   * Creates a `ManifestNotFoundError`
   *
   * @param key The missing manifest's key.
   * @param options The referencing manifest and the cause.
   */
  constructor(key: string, options: ExchangeErrorOptions & { referencedBy?: string } = {}) {
    super(
      `Manifest not found: "${key}"${
        options.referencedBy === undefined ? "" : ` (referenced by "${options.referencedBy}")`
      }`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ManifestNotFoundError";
    this.key = key;
    this.referencedBy = options.referencedBy;
  }
}

/**
 * A manifest line is not a valid entry (bad JSON, no `kind`, a missing key).
 *
 * @example
 * ```ts
 * import { InvalidManifestError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * const error = new InvalidManifestError("missing \"key\" in a file entry", { source: "m.jsonl", line: 3 });
 * equal(error.message, 'Invalid manifest "m.jsonl" line 3: missing "key" in a file entry');
 * equal(error.line, 3);
 * ```
 */
export class InvalidManifestError extends SyntaxError {
  /** The manifest (href or key), when known. */
  readonly source: string | undefined;
  /** The 1-based line number, when known. */
  readonly line: number | undefined;

  /**
   * Creates a `InvalidManifestError`
   *
   * @param reason What is wrong with the line.
   * @param options The manifest, the line number and the cause.
   */
  constructor(
    reason: string,
    options: ExchangeErrorOptions & { source?: string | undefined; line?: number | undefined } = {},
  ) {
    const where = [
      options.source === undefined ? "" : ` "${options.source}"`,
      options.line === undefined ? "" : ` line ${options.line}`,
    ].join("");
    super(
      `Invalid manifest${where}: ${reason}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "InvalidManifestError";
    this.source = options.source;
    this.line = options.line;
  }
}

/**
 * A key template names a placeholder that no variable fills.
 *
 * @example
 * ```ts
 * import { MissingPlaceholderError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * const error = new MissingPlaceholderError("job_id", "training/{job_id}/x");
 * equal(error.message, 'Missing placeholder "job_id" in key template "training/{job_id}/x"');
 * ```
 */
export class MissingPlaceholderError extends TypeError {
  /** The placeholder's name. */
  readonly placeholder: string;
  /** The template. */
  readonly template: string;

  /**
   * Creates a `MissingPlaceholderError`
   *
   * @param placeholder The placeholder's name.
   * @param template The template.
   */
  constructor(placeholder: string, template: string) {
    super(`Missing placeholder "${placeholder}" in key template "${template}"`);
    this.name = "MissingPlaceholderError";
    this.placeholder = placeholder;
    this.template = template;
  }
}

/**
 * A shard archive cannot be read: not a tar, truncated, no internal manifest,
 * an unsafe member, a member that is not there.
 *
 * @example
 * ```ts
 * import { ShardReadError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * const error = new ShardReadError("s.tar", "member 2 \"../x\" leaves the archive", { offset: 1024 });
 * equal(error.message, 'Cannot read shard "s.tar" at byte 1024: member 2 "../x" leaves the archive');
 * ```
 */
export class ShardReadError extends Error {
  /** The archive (href or key). */
  readonly archive: string;
  /** The byte offset in the (uncompressed) tar stream where it went wrong, when known. */
  readonly offset: number | undefined;

  /**
   * Creates a `ShardReadError`
   *
   * @param archive The archive.
   * @param reason What is wrong.
   * @param options The offset and the cause.
   */
  constructor(
    archive: string,
    reason: string,
    options: ExchangeErrorOptions & { offset?: number | undefined } = {},
  ) {
    super(
      `Cannot read shard "${archive}"${
        options.offset === undefined ? "" : ` at byte ${options.offset}`
      }: ${reason}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ShardReadError";
    this.archive = archive;
    this.offset = options.offset;
  }
}
