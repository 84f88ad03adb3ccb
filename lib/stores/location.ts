/**
 * Locations: the structured form of an href, as the asset lock stores it.
 *
 * Invariants: `store_type` is one of {@linkcode STORE_TYPES} (aliases are
 * normalised on parse); `key` never starts with `/` except for absolute file
 * paths; `store_container` is the bucket or Swift container, the Google Cloud
 * Storage bucket (`gs`) or Azure Blob container (`az`; stacpkg keeps the
 * `container@account.dfs.core.windows.net` form of `abfs[s]://` hrefs as
 * is), `scheme://host` for http(s) (the whole URL when it carries a query
 * string, with an empty key), the store name for `memory`, and null for
 * files. Parsing a canonical href and formatting the result gives the href
 * back, and formatting then parsing a location gives the location back.
 *
 * As in stacpkg, an `https://storage.googleapis.com/…` or
 * `https://ACCOUNT.blob.core.windows.net/…` href is an `https` location (so
 * a lock means the same to both tools); those are the public endpoints the
 * `gs` and `az` drivers read `gs://` and `az://` locations through.
 *
 * @module
 */

/** The store types ferry speaks. */
export const STORE_TYPES = [
  "file",
  "memory",
  "http",
  "https",
  "s3",
  "swift",
  "gs",
  "az",
] as const;

/** One of {@linkcode STORE_TYPES}. */
export type StoreType = typeof STORE_TYPES[number];

/** Where an object lives. Field names are the asset lock's column names. */
export interface Location {
  /** The driver. */
  store_type: StoreType;
  /** Bucket, container, `scheme://host`, or null for files. */
  store_container: string | null;
  /** S3 endpoint or Swift storage URL; null means "from the environment". */
  store_endpoint_url: string | null;
  /** The object key (an absolute or relative path for files). */
  key: string;
}

const ALIASES: Record<string, StoreType> = {
  file: "file",
  local: "file",
  memory: "memory",
  http: "http",
  https: "https",
  s3: "s3",
  s3a: "s3",
  swift: "swift",
  gs: "gs",
  gcs: "gs",
  az: "az",
  abfs: "az",
  abfss: "az",
};

/**
 * The canonical store type for a name or alias (`s3a` → `s3`, `local` → `file`).
 *
 * @param name A store type or alias, any case.
 * @returns The store type.
 * @throws {TypeError} For an unknown store type.
 */
export function normalizeStoreType(name: string): StoreType {
  const type = ALIASES[name.trim().toLowerCase()];
  if (!type) {
    throw new TypeError(
      `Unknown store type "${name}": expected one of ${
        STORE_TYPES.join(", ")
      } (or s3a, gcs, abfs, abfss, local)`,
    );
  }
  return type;
}

/** Options of {@linkcode parseHref}. */
export interface ParseHrefOptions {
  /** Endpoint to record for `s3://` and `swift://` hrefs. @default null */
  endpoint?: string | null | undefined;
}

/**
 * Parses an href (URL or plain path) into a {@linkcode Location}.
 *
 * @example An S3 href
 * ```ts
 * import { parseHref } from "./location.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseHref("s3a://bucket/a/b.tif"), {
 *   store_type: "s3", store_container: "bucket", store_endpoint_url: null, key: "a/b.tif",
 * });
 * ```
 *
 * @example Google Cloud Storage and Azure Blob hrefs
 * ```ts
 * import { parseHref } from "./location.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseHref("gs://bucket/a.tif"), {
 *   store_type: "gs", store_container: "bucket", store_endpoint_url: null, key: "a.tif",
 * });
 * deepEqual(parseHref("abfss://c@acct.dfs.core.windows.net/a.tif"), {
 *   store_type: "az", store_container: "c@acct.dfs.core.windows.net", store_endpoint_url: null,
 *   key: "a.tif",
 * });
 * ```
 *
 * @param href The href.
 * @param options Endpoint to record.
 * @returns Its location.
 * @throws {TypeError} For an empty href or an unknown scheme.
 */
export function parseHref(href: string, options: ParseHrefOptions = {}): Location {
  if (href === "") throw new TypeError("Invalid href: it is empty");
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(href)?.[1];
  // A one-letter "scheme" is a Windows drive letter, i.e. a plain path.
  if (!scheme || scheme.length === 1) {
    return { store_type: "file", store_container: null, store_endpoint_url: null, key: href };
  }
  const type = normalizeStoreType(scheme);
  if (type === "file") {
    const url = new URL(href);
    if (url.host !== "" && url.host !== "localhost") {
      throw new TypeError(`Invalid file URL "${href}": remote hosts are not supported`);
    }
    return {
      store_type: "file",
      store_container: null,
      store_endpoint_url: null,
      key: decodeURIComponent(url.pathname),
    };
  }
  if (type === "http" || type === "https") {
    const url = new URL(href);
    if (url.search !== "") {
      return { store_type: type, store_container: href, store_endpoint_url: null, key: "" };
    }
    const origin = href.slice(0, href.indexOf("/", scheme.length + 3) >>> 0);
    const rest = href.slice(origin.length).replace(/^\//, "");
    return { store_type: type, store_container: origin, store_endpoint_url: null, key: rest };
  }
  const afterScheme = href.slice(scheme.length + 3);
  if (!href.startsWith(`${scheme}://`) || afterScheme === "") {
    throw new TypeError(`Invalid ${type} URL "${href}": expected ${type}://CONTAINER/KEY`);
  }
  const slash = afterScheme.indexOf("/");
  const container = slash === -1 ? afterScheme : afterScheme.slice(0, slash);
  const key = slash === -1 ? "" : afterScheme.slice(slash + 1);
  if (container === "") {
    throw new TypeError(`Invalid ${type} URL "${href}": the container name is empty`);
  }
  return {
    store_type: type,
    store_container: container,
    store_endpoint_url: type === "memory" ? null : options.endpoint ?? null,
    key,
  };
}

/**
 * Formats a location as an href: `file://` URLs for absolute paths, the
 * relative path as is, `s3://`, `swift://`, `gs://`, `az://`, `memory://`
 * short forms, and the plain URL for http(s).
 *
 * @param location The location.
 * @returns The href.
 */
export function formatHref(location: Location): string {
  const { store_type: type, store_container: container, key } = location;
  switch (type) {
    case "file":
      return key.startsWith("/") ? fileUrl(key) : key;
    case "http":
    case "https":
      if (!container) throw new TypeError(`Invalid ${type} location: store_container is empty`);
      return key === "" ? container : `${container.replace(/\/$/, "")}/${key}`;
    default:
      if (!container) throw new TypeError(`Invalid ${type} location: store_container is empty`);
      return `${type}://${container}/${key}`;
  }
}

/**
 * The URL any HTTP client can fetch for a Swift location (the storage URL,
 * container and encoded key); for other stores the href itself.
 *
 * @param location The location.
 * @returns An absolute URL or href.
 */
export function publicUrl(location: Location): string {
  if (location.store_type === "swift" && location.store_endpoint_url) {
    return `${location.store_endpoint_url.replace(/\/$/, "")}/${
      encodeURIComponent(location.store_container ?? "")
    }/${encodeKeyPath(location.key)}`;
  }
  return formatHref(location);
}

/**
 * Percent-encodes each `/`-separated segment of a key for use in a URL path.
 *
 * @param key The key.
 * @returns The encoded path.
 */
export function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

function fileUrl(path: string): string {
  return "file://" +
    encodeKeyPath(path).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
}

/** A scheme of two letters or more (one letter is a Windows drive). */
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]+:/;

/**
 * Whether an href is absolute: a URL with a scheme of two letters or more,
 * or a path starting with `/`.
 *
 * @example
 * ```ts
 * import { isAbsoluteHref } from "./location.ts";
 * import { equal } from "node:assert/strict";
 * equal(isAbsoluteHref("s3://b/k"), true);
 * equal(isAbsoluteHref("/data/x"), true);
 * equal(isAbsoluteHref("./x.tif"), false);
 * ```
 *
 * @param href The href.
 * @returns True when it needs no base.
 */
export function isAbsoluteHref(href: string): boolean {
  return href.startsWith("/") || SCHEME.test(href);
}

/**
 * `path` resolved against the folder `dir` (both POSIX, `dir` absolute):
 * `.` and `..` segments are applied, `..` stops at the root.
 *
 * @example
 * ```ts
 * import { resolvePosix } from "./location.ts";
 * import { equal } from "node:assert/strict";
 * equal(resolvePosix("/a/b", "../c/./d"), "/a/c/d");
 * ```
 *
 * @param dir An absolute folder.
 * @param path A path relative to it (or `.`/`..` segments).
 * @returns The absolute path.
 */
export function resolvePosix(dir: string, path: string): string {
  const parts: string[] = [];
  for (const segment of `${dir}/${path}`.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") parts.pop();
    else parts.push(segment);
  }
  return `/${parts.join("/")}`;
}

/** The folder of a POSIX path (`/a/b.json` → `/a`). */
function dirnamePosix(path: string): string {
  return path.slice(0, path.lastIndexOf("/") + 1) || "/";
}

/**
 * A relative href without `.` or `..` segments (but for leading `./`), empty
 * segments, or characters URL parsing would encode or treat specially: joined
 * to a folder URL it gives what URL resolution gives. Group 1: the path
 * after the leading `./`.
 */
const PLAIN_RELATIVE =
  /^(?:\.\/)*([\w~!$&'()*+,;=:@-][\w.~!$&'()*+,;=:@-]*(?:\/[\w~!$&'()*+,;=:@-][\w.~!$&'()*+,;=:@-]*)*)$/;

/**
 * Whether an href is relative: no scheme (nor drive letter) and not an
 * absolute path (`B04.tif`, `./B04.tif`, `../x/B04.tif`).
 *
 * @example
 * ```ts
 * import { isRelativeHref } from "./location.ts";
 * import { equal } from "node:assert/strict";
 * equal(isRelativeHref("./B04.tif"), true);
 * equal(isRelativeHref("s3://b/B04.tif"), false);
 * equal(isRelativeHref("/data/B04.tif"), false);
 * ```
 *
 * @param href The href.
 * @returns True for a relative href.
 */
export function isRelativeHref(href: string): boolean {
  // As !/^\// and !/^[a-zA-Z][a-zA-Z0-9+.-]*:/, without a regular expression.
  const first = href.charCodeAt(0) | 0x20;
  if (first < 0x61 || first > 0x7a) return href.charCodeAt(0) !== 0x2f;
  for (let i = 1; i < href.length; i++) {
    const c = href.charCodeAt(i);
    if (c === 0x3a) return false; // ":" ends a scheme
    const lower = c | 0x20;
    if (
      !((lower >= 0x61 && lower <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b ||
        c === 0x2e || c === 0x2d)
    ) return true;
  }
  return true;
}

/**
 * What resolves relative hrefs against an absolute base href (an item's
 * `self` link, or a folder ending in `/`), as STAC resolves them: URL
 * resolution for http(s) (the path is a URL path there); for other schemes
 * the key (raw, as `parseHref` reads `s3://` and `swift://` keys, so no
 * percent-encoding) or the path of a `file://` URL, and for a plain absolute
 * path, POSIX resolution against its folder. Made once per base, applied to
 * many hrefs.
 *
 * @example
 * ```ts
 * import { relativeHrefResolver } from "./location.ts";
 * import { equal } from "node:assert/strict";
 * equal(relativeHrefResolver("/cat/items/a.json")("../data/b.tif"), "/cat/data/b.tif");
 * equal(relativeHrefResolver("/data/")("x/y.csv"), "/data/x/y.csv");
 * equal(relativeHrefResolver("https://h/c/a.json")("./b.tif"), "https://h/c/b.tif");
 * equal(relativeHrefResolver("s3://bucket/c/a.json")("b c.tif"), "s3://bucket/c/b c.tif");
 * ```
 *
 * @param self An absolute href: a URL, or a path starting with `/`.
 * @returns The resolver of hrefs relative to it.
 * @throws {TypeError} When `base` is relative or its scheme is unknown.
 */
export function relativeHrefResolver(self: string): (href: string) => string {
  if (!isAbsoluteHref(self)) {
    throw new TypeError(`Invalid base href "${self}": expected a URL or an absolute path`);
  }
  if (self.startsWith("/")) {
    const dir = dirnamePosix(self);
    return (href) => resolvePosix(dir, href);
  }
  const scheme = SCHEME.exec(self)![0].slice(0, -1).toLowerCase();
  if (scheme === "http" || scheme === "https") {
    const dir = new URL("./", self).href;
    return (href) => {
      const plain = PLAIN_RELATIVE.exec(href);
      return plain ? dir + plain[1] : new URL(href, self).href;
    };
  }
  const base = parseHref(self);
  if (base.store_type === "file") {
    const dir = dirnamePosix(base.key);
    return (href) => resolvePosix(dir, href);
  }
  // scheme://container/key: the key's folder, kept as written.
  const keyStart = self.indexOf("/", scheme.length + 3);
  const prefix = keyStart === -1 ? `${self}/` : self.slice(0, keyStart + 1);
  const dir = dirnamePosix(`/${keyStart === -1 ? "" : self.slice(keyStart + 1)}`);
  return (href) => prefix + resolvePosix(dir, href).slice(1);
}

/**
 * An endpoint as stacpkg records it: trimmed, no trailing `/`, a scheme
 * (`https://` unless told otherwise) added when it has none; empty means null.
 *
 * @example
 * ```ts
 * import { normalizeEndpoint } from "./location.ts";
 * import { equal } from "node:assert/strict";
 * equal(normalizeEndpoint("s3.example.com/"), "https://s3.example.com");
 * equal(normalizeEndpoint("localhost:4443", "http"), "http://localhost:4443");
 * equal(normalizeEndpoint(" "), null);
 * ```
 *
 * @param value The endpoint or null.
 * @param scheme The scheme for an endpoint without one.
 * @returns The normalised endpoint or null.
 */
export function normalizeEndpoint(
  value: string | null | undefined,
  scheme: "http" | "https" = "https",
): string | null {
  const trimmed = value?.trim().replace(/\/+$/, "") ?? "";
  if (trimmed === "") return null;
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `${scheme}://${trimmed}`;
}
