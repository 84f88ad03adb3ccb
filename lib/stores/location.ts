/**
 * Locations: the structured form of an href, as the asset lock stores it.
 *
 * Invariants: `store_type` is one of {@linkcode STORE_TYPES} (aliases are
 * normalised on parse); `key` never starts with `/` except for absolute file
 * paths; `store_container` is the bucket or Swift container, `scheme://host`
 * for http(s) (the whole URL when it carries a query string, with an empty
 * key), the store name for `memory`, and null for files. Parsing a canonical
 * href and formatting the result gives the href back, and formatting then
 * parsing a location gives the location back.
 *
 * @module
 */

/** The store types ferry speaks. */
export const STORE_TYPES = ["file", "memory", "http", "https", "s3", "swift"] as const;

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
      `Unknown store type "${name}": expected one of ${STORE_TYPES.join(", ")} (or s3a, local)`,
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
 * relative path as is, `s3://`, `swift://`, `memory://` short forms, and
 * the plain URL for http(s).
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
