/**
 * Removal of secrets from text that may reach a user: error messages, logs,
 * locks and reports.
 *
 * @module
 */

const SECRET_QUERY_PARAMS =
  /([?&](?:temp_url_sig|temp_url_expires|temp_url_prefix|X-Amz-[A-Za-z-]+|Signature|AWSAccessKeyId|Expires|sig|se|sp|sv|sr|st|skoid|sktid|skt|ske|sks|skv|token|access_token|key|password)=)[^&#\s"']*/gi;
const SECRET_HEADERS =
  /((?:x-auth-token|x-storage-token|x-auth-key|x-subject-token|authorization|x-amz-security-token|proxy-authorization)\s*[:=]\s*)("?)[^\s",}]+(?:\s+[^\s",}]+)?/gi;
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;
const KNOWN_TOKENS = /\b(AUTH_tk[0-9a-f]{16,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16})\b/g;

const registeredSecrets = new Set<string>();

/**
 * Registers a literal secret (a password, key or token this process knows)
 * so that {@linkcode redact} removes it wherever it appears.
 *
 * @param secret The secret text; values shorter than 4 characters are ignored.
 */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 4) registeredSecrets.add(secret);
}

/**
 * Returns `text` with tokens, keys, signatures and signed query strings replaced
 * by `REDACTED`.
 *
 * @example Redacting a TempURL signature
 * ```ts
 * import { redact } from "./redact.ts";
 * import { equal } from "node:assert/strict";
 * equal(redact("GET /v1/a/c/o?temp_url_sig=abc&temp_url_expires=1"), "GET /v1/a/c/o?temp_url_sig=REDACTED&temp_url_expires=REDACTED");
 * ```
 *
 * @param text Any text.
 * @returns The text without secrets.
 */
export function redact(text: string): string {
  let out = text
    .replace(SECRET_QUERY_PARAMS, "$1REDACTED")
    .replace(SECRET_HEADERS, "$1$2REDACTED")
    .replace(URL_USERINFO, "$1REDACTED@")
    .replace(KNOWN_TOKENS, "REDACTED");
  for (const secret of registeredSecrets) {
    if (out.includes(secret)) out = out.split(secret).join("REDACTED");
  }
  return out;
}
