/**
 * Keys as s3exchange builds them: templates with `{placeholders}` filled from
 * default and scoped variables, normalised (no double, leading or trailing
 * slashes), part keys beside the root manifest, ids from base names, and the
 * virtual keys `archive_key#member_path` of shard members.
 *
 * @module
 */
import { MissingPlaceholderError } from "./errors.ts";

/** Template variables; values are written as Python's `str()` would. */
export type KeyVars = Readonly<Record<string, string | number | boolean | null>>;

/**
 * A key without double, leading or trailing slashes.
 *
 * @example
 * ```ts
 * import { normalizeKey } from "./keys.ts";
 * import { equal } from "node:assert/strict";
 * equal(normalizeKey("//a//b/c/"), "a/b/c");
 * ```
 *
 * @param key The raw key.
 * @returns The normalised key.
 */
export function normalizeKey(key: string): string {
  return key.replace(/\/+/g, "/").replace(/^\/+/, "").replace(/\/+$/, "");
}

const PLACEHOLDER = /\{\{|\}\}|\{([^{}]*)\}|[{}]/gu;
const NAME = /^[\p{L}\p{N}_]+$/u;

function pythonStr(value: string | number | boolean | null): string {
  if (value === null) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}

/**
 * Fills a template's `{name}` placeholders (`{{` and `}}` stand for braces)
 * from `vars`, then from `defaults`, and normalises the result.
 *
 * @example
 * ```ts
 * import { resolveTemplate } from "./keys.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(resolveTemplate("{svc}/jobs/{job}/", { job: 7 }, { svc: "train" }), "train/jobs/7");
 * throws(() => resolveTemplate("{svc}/{job}", { svc: "a" }), /Missing placeholder "job"/);
 * ```
 *
 * @param template The key template.
 * @param vars Variables (win over defaults).
 * @param defaults Default variables.
 * @returns The normalised key.
 * @throws {MissingPlaceholderError} When a placeholder has no value.
 * @throws {SyntaxError} On a lone brace or a placeholder that is not a name.
 */
export function resolveTemplate(
  template: string,
  vars: KeyVars = {},
  defaults: KeyVars = {},
): string {
  const resolved = template.replace(PLACEHOLDER, (match, name: string | undefined) => {
    if (match === "{{") return "{";
    if (match === "}}") return "}";
    if (name === undefined || !NAME.test(name)) {
      throw new SyntaxError(`Invalid placeholder "${match}" in key template "${template}"`);
    }
    const value = Object.hasOwn(vars, name)
      ? vars[name]
      : Object.hasOwn(defaults, name)
      ? defaults[name]
      : undefined;
    if (value === undefined) throw new MissingPlaceholderError(name, template);
    return pythonStr(value);
  });
  return normalizeKey(resolved);
}

/** Options of {@linkcode KeyTemplates}. */
export interface KeyTemplatesOptions {
  /** A prefix put before every resolved key. @default "" */
  basePrefix?: string | undefined;
  /** Variables every template may use. */
  defaultVars?: KeyVars | undefined;
}

/**
 * Key templates with default variables and a base prefix, and scopes that
 * pre-fill more variables (s3exchange's `store._resolve_key` and
 * `store.scope(**vars)`).
 *
 * @example A scope for one job
 * ```ts
 * import { KeyTemplates } from "./keys.ts";
 * import { equal } from "node:assert/strict";
 * const keys = new KeyTemplates({ basePrefix: "prod", defaultVars: { svc: "train" } });
 * const job = keys.scope({ prefix: "train/jobs/7" });
 * equal(job.manifestKey("samples"), "prod/train/jobs/7/samples/manifest.jsonl");
 * equal(job.shardPrefix("samples"), "prod/train/jobs/7/samples/shards");
 * equal(keys.key("{svc}/x/{n}", { n: 1 }), "prod/train/x/1");
 * ```
 */
export class KeyTemplates {
  /** The prefix before every key. */
  readonly basePrefix: string;
  /** The default variables. */
  readonly defaultVars: KeyVars;

  /**
   * Creates a `KeyTemplates`
   *
   * @param options Base prefix and default variables.
   */
  constructor(options: KeyTemplatesOptions = {}) {
    this.basePrefix = options.basePrefix ?? "";
    this.defaultVars = { ...options.defaultVars };
  }

  /**
   * Resolves a template with the defaults and `vars`, under the base prefix.
   *
   * @param template The template.
   * @param vars Variables for this key.
   * @returns The key.
   * @throws {MissingPlaceholderError} When a placeholder has no value.
   */
  key(template: string, vars: KeyVars = {}): string {
    const resolved = resolveTemplate(template, vars, this.defaultVars);
    return this.basePrefix ? normalizeKey(`${this.basePrefix}/${resolved}`) : resolved;
  }

  /**
   * A scope whose keys have `vars` pre-filled.
   *
   * @param vars The scope's variables.
   * @returns The scope.
   */
  scope(vars: KeyVars): KeyScope {
    return new KeyScope(this, vars);
  }
}

/** Keys with some variables pre-filled (s3exchange's `ScopedStore`). */
export class KeyScope {
  readonly #templates: KeyTemplates;
  /** The scope's variables. */
  readonly vars: KeyVars;

  /**
   * Creates a `KeyScope`
   *
   * @param templates The templates it resolves with.
   * @param vars The scope's variables.
   */
  constructor(templates: KeyTemplates, vars: KeyVars) {
    this.#templates = templates;
    this.vars = { ...vars };
  }

  /**
   * Resolves a template with the scope's variables and `vars`.
   *
   * @param template The template.
   * @param vars More variables (win over the scope's).
   * @returns The key.
   * @throws {MissingPlaceholderError} When a placeholder has no value.
   */
  key(template: string, vars: KeyVars = {}): string {
    return this.#templates.key(template, { ...this.vars, ...vars });
  }

  /**
   * The standard manifest key `{prefix}/NAME/manifest.jsonl`.
   *
   * @param name The manifest's name.
   * @returns The key.
   * @throws {MissingPlaceholderError} When the scope has no `prefix`.
   */
  manifestKey(name: string): string {
    return this.key(`{prefix}/${name}/manifest.jsonl`);
  }

  /**
   * The standard shard prefix `{prefix}/NAME/shards`.
   *
   * @param name The shard collection's name.
   * @returns The prefix.
   * @throws {MissingPlaceholderError} When the scope has no `prefix`.
   */
  shardPrefix(name: string): string {
    return this.key(`{prefix}/${name}/shards`);
  }
}

/**
 * The folder part of a key (`""` at the top).
 *
 * @param key A key.
 * @returns Everything before the last `/`.
 */
export function parentOf(key: string): string {
  const slash = key.lastIndexOf("/");
  return slash === -1 ? "" : key.slice(0, slash);
}

/**
 * The folder that holds a root manifest's parts: `<dir of root>/manifests`.
 *
 * @param rootKey The root manifest's key.
 * @returns The folder's key (no trailing slash).
 */
export function partsFolderOf(rootKey: string): string {
  const dir = parentOf(rootKey);
  return dir ? `${dir}/manifests` : "manifests";
}

function utcStamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${
    p(now.getUTCHours())
  }${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/**
 * A new part key for a root manifest, as s3exchange names parts:
 * `<dir of root>/manifests/part-<UTC yyyymmdd-HHMMSS>-<8 hex>.jsonl`.
 *
 * @example
 * ```ts
 * import { partKeyFor } from "./keys.ts";
 * import { match } from "node:assert/strict";
 * match(partKeyFor("a/b/manifest.jsonl", new Date(Date.UTC(2026, 1, 7, 9, 5, 3))), /^a\/b\/manifests\/part-20260207-090503-[0-9a-f]{8}\.jsonl$/);
 * match(partKeyFor("manifest.jsonl"), /^manifests\/part-\d{8}-\d{6}-[0-9a-f]{8}\.jsonl$/);
 * ```
 *
 * @param rootKey The root manifest's key.
 * @param now The time to stamp. @default now
 * @returns The part's key.
 */
export function partKeyFor(rootKey: string, now: Date = new Date()): string {
  return `${partsFolderOf(rootKey)}/part-${utcStamp(now)}-${crypto.randomUUID().slice(0, 8)}.jsonl`;
}

/**
 * The default shard prefix of a manifest writer: `<dir of root>/shards`.
 *
 * @param rootKey The root manifest's key.
 * @returns The prefix.
 */
export function defaultShardPrefix(rootKey: string): string {
  const dir = parentOf(rootKey);
  return dir ? `${dir}/shards` : "shards";
}

/**
 * An id from a key's base name, without its last extension (s3exchange's
 * `infer_id_from_key`).
 *
 * @example
 * ```ts
 * import { inferIdFromKey } from "./keys.ts";
 * import { equal } from "node:assert/strict";
 * equal(inferIdFromKey("a/b/0001.tar.gz"), "0001.tar");
 * equal(inferIdFromKey("a/README"), "README");
 * ```
 *
 * @param key A key or path.
 * @returns The id.
 */
export function inferIdFromKey(key: string): string {
  const base = key.slice(key.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot === -1 ? base : base.slice(0, dot);
}

/**
 * The virtual key of a shard member: `<archive_key>#<member_path>`.
 *
 * @param archiveKey The archive's key.
 * @param memberPath The member's path inside it.
 * @returns The virtual key.
 */
export function virtualKey(archiveKey: string, memberPath: string): string {
  return `${archiveKey}#${memberPath}`;
}

/**
 * Splits a virtual key at its first `#`.
 *
 * @example
 * ```ts
 * import { splitVirtualKey } from "./keys.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * deepEqual(splitVirtualKey("s/a.tar#x/1.wav"), { archiveKey: "s/a.tar", memberPath: "x/1.wav" });
 * equal(splitVirtualKey("plain/key"), undefined);
 * ```
 *
 * @param key A key.
 * @returns Archive key and member path, or undefined for a key without `#`.
 */
export function splitVirtualKey(
  key: string,
): { archiveKey: string; memberPath: string } | undefined {
  const hash = key.indexOf("#");
  if (hash === -1) return undefined;
  return { archiveKey: key.slice(0, hash), memberPath: key.slice(hash + 1) };
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

/**
 * Where appenders that cannot compare-and-swap the root leave their pending
 * references: `<dir of root>/manifests/<root name>.pending/` (see `append.ts`).
 *
 * @param rootKey The root manifest's key.
 * @returns The prefix (ends with `/`).
 */
export function pendingRefsPrefix(rootKey: string): string {
  return `${partsFolderOf(rootKey)}/${baseName(rootKey)}.pending/`;
}

/**
 * Where appenders that cannot compare-and-swap the root take turns:
 * `<dir of root>/manifests/<root name>.lock/` (see `root_lock.ts`).
 *
 * @param rootKey The root manifest's key.
 * @returns The prefix (ends with `/`).
 */
export function rootLockPrefix(rootKey: string): string {
  return `${partsFolderOf(rootKey)}/${baseName(rootKey)}.lock/`;
}
