/**
 * Swift TempURLs: HMAC-signed URLs that any HTTP client can use without a
 * token, for one object or (with `prefix`) every object under a prefix.
 *
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";
import { registerSecret } from "../redact.ts";
import type { SwiftClient } from "./client.ts";
import { classify } from "./client.ts";

/** The methods a TempURL can allow. */
export const TEMP_URL_METHODS = ["GET", "PUT", "HEAD", "POST", "DELETE"] as const;
/** One of {@linkcode TEMP_URL_METHODS}. */
export type TempUrlMethod = typeof TEMP_URL_METHODS[number];
/** The HMAC digest: `sha256` (hex signature) or `sha512` (`sha512:<base64url>`). */
export type TempUrlDigest = "sha256" | "sha512";

/** Options of {@linkcode tempUrl}. */
export interface TempUrlOptions {
  /** The account's (or container's) `Temp-URL-Key`. */
  key: string;
  /** The allowed method. @default "GET" */
  method?: TempUrlMethod | undefined;
  /** Expiry as Unix seconds. */
  expiresAt: number;
  /** The digest. @default "sha256" */
  digest?: TempUrlDigest | undefined;
  /**
   * Sign a prefix instead of one object: the URL's path after the container is
   * the prefix (`temp_url_prefix`), and the signature is valid for any object
   * under it. @default false
   */
  prefix?: boolean | undefined;
}

/**
 * Signs `url` (`scheme://host/v1/ACCOUNT/CONTAINER/OBJECT`) as a TempURL.
 *
 * @example A prefix URL
 * ```ts
 * import { tempUrl } from "./tempurl.ts";
 * import { match } from "node:assert/strict";
 * const url = tempUrl("https://swift.example/v1/AUTH_a/c/dir/", {
 *   key: "secret-key", expiresAt: 1700000000, digest: "sha512", prefix: true,
 * });
 * match(url, /\?temp_url_sig=sha512:[\w-]+&temp_url_expires=1700000000&temp_url_prefix=dir%2F$/);
 * ```
 *
 * @param url The object's (or prefix's) full URL.
 * @param options Key, method, expiry, digest, prefix.
 * @returns The signed URL.
 * @throws {TypeError} When the URL has no `/v1/ACCOUNT/CONTAINER/` path.
 */
export function tempUrl(url: string, options: TempUrlOptions): string {
  const parsed = new URL(url);
  const method = options.method ?? "GET";
  if (!TEMP_URL_METHODS.includes(method)) {
    throw new TypeError(
      `Invalid TempURL method "${method}": expected one of ${TEMP_URL_METHODS.join(", ")}`,
    );
  }
  if (!Number.isSafeInteger(options.expiresAt) || options.expiresAt <= 0) {
    throw new RangeError(`Invalid TempURL expiry ${options.expiresAt}: expected Unix seconds`);
  }
  const path = decodeURIComponent(parsed.pathname);
  const parts = path.split("/");
  // ["", "v1", account, container, ...object]
  if (parts.length < 5 || parts[3] === "" || (!options.prefix && parts.slice(4).join("/") === "")) {
    throw new TypeError(
      `Invalid TempURL target "${parsed.origin}${parsed.pathname}": expected /v1/ACCOUNT/CONTAINER/${
        options.prefix ? "PREFIX" : "OBJECT"
      }`,
    );
  }
  const prefix = parts.slice(4).join("/");
  const signed = options.prefix ? `prefix:${path}` : path;
  const body = `${method}\n${options.expiresAt}\n${signed}`;
  const digest = options.digest ?? "sha256";
  const hmac = createHmac(digest, options.key).update(body);
  const sig = digest === "sha256"
    ? hmac.digest("hex")
    : `sha512:${hmac.digest("base64url").replace(/=+$/, "")}`;
  let out =
    `${parsed.origin}${parsed.pathname}?temp_url_sig=${sig}&temp_url_expires=${options.expiresAt}`;
  if (options.prefix) out += `&temp_url_prefix=${encodeURIComponent(prefix)}`;
  return out;
}

/**
 * The account's TempURL key (`X-Account-Meta-Temp-URL-Key`, else `-Key-2`),
 * read with an account HEAD; with `create`, sets a random one when the
 * account has none.
 *
 * @param client A client of the account.
 * @param options `create`: set a key when there is none (needs account write access).
 * @returns The key, or undefined when the account has none and `create` is off.
 */
export async function tempUrlKey(
  client: SwiftClient,
  options: { create?: boolean | undefined; signal?: AbortSignal | undefined } = {},
): Promise<string | undefined> {
  const head = await client.request({ method: "HEAD", signal: options.signal });
  if (!head.ok) throw await classify(head, { operation: "HEAD" });
  await head.body?.cancel();
  const existing = head.headers.get("x-account-meta-temp-url-key") ??
    head.headers.get("x-account-meta-temp-url-key-2") ?? undefined;
  if (existing || !options.create) {
    registerSecret(existing);
    return existing;
  }
  const key = randomBytes(32).toString("hex");
  registerSecret(key);
  const post = await client.request({
    method: "POST",
    headers: { "X-Account-Meta-Temp-URL-Key": key },
    signal: options.signal,
  });
  if (!post.ok) throw await classify(post, { operation: "POST (set Temp-URL-Key on)" });
  await post.body?.cancel();
  return key;
}
