/**
 * Swift authentication: TempAuth v1.0 and pre-authenticated tokens, shared
 * as one {@linkcode SwiftSession} per set of credentials.
 *
 * @module
 */
import {
  errorFromStatus,
  isRuntimePermissionFailure,
  PermissionDeniedError,
  StoreError,
  TransientError,
} from "../errors.ts";
import { registerSecret } from "../redact.ts";

/** Credentials: a pre-authenticated token, or TempAuth v1.0. */
export type SwiftAuthOptions =
  | { storageUrl: string; token: string }
  | { authUrl: string; user: string; key: string; storageUrl?: string | undefined };

/** What an authentication yields. */
export interface SwiftCredentials {
  /** The account's storage URL, e.g. `https://host/v1/AUTH_test`. */
  storageUrl: string;
  /** The token sent as `X-Auth-Token`. */
  token: string;
  /** When the token expires, when the server said. */
  expiresAt?: Date | undefined;
}

/**
 * Authenticates with TempAuth v1.0: `GET authUrl` with `X-Auth-User` and
 * `X-Auth-Key`, answered by `X-Storage-Url`, `X-Auth-Token` and
 * `X-Auth-Token-Expires` (seconds left).
 *
 * @example Authenticating
 * ```ts ignore
 * import { authenticate } from "./auth.ts";
 * const creds = await authenticate("http://127.0.0.1:8080/auth/v1.0", "test:tester", "testing");
 * console.log(creds.storageUrl);
 * ```
 *
 * @param authUrl The TempAuth URL (`ST_AUTH`).
 * @param user The user, `account:user` (`ST_USER`).
 * @param key The key or password (`ST_KEY`).
 * @param options Cancellation.
 * @returns Storage URL, token and expiry.
 * @throws {PermissionDeniedError} When the server refuses the user or key; the
 * message names the auth URL and the user, never the key.
 */
export async function authenticate(
  authUrl: string,
  user: string,
  key: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<SwiftCredentials> {
  registerSecret(key);
  let response: Response;
  try {
    response = await fetch(authUrl, {
      headers: { "X-Auth-User": user, "X-Auth-Key": key },
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const message = `Cannot reach Swift auth URL ${authUrl}: ${(error as Error).message}`;
    throw isRuntimePermissionFailure(error)
      ? new PermissionDeniedError(message, { cause: error })
      : new TransientError(message, { cause: error });
  }
  await response.body?.cancel();
  if (response.status === 401 || response.status === 403) {
    throw new PermissionDeniedError(
      `Swift authentication failed for user "${user}" at ${authUrl}: ${response.status} ${response.statusText}: check ST_USER and ST_KEY`,
    );
  }
  if (!response.ok) {
    throw errorFromStatus(
      response.status,
      `Swift authentication at ${authUrl} failed: ${response.status} ${response.statusText}`,
      { retryAfter: response.headers.get("retry-after") },
    );
  }
  const token = response.headers.get("x-auth-token") ?? response.headers.get("x-storage-token");
  const storageUrl = response.headers.get("x-storage-url");
  if (!token || !storageUrl) {
    throw new StoreError(
      `Swift authentication at ${authUrl} returned no X-Auth-Token or X-Storage-Url: is it a TempAuth v1.0 URL?`,
    );
  }
  registerSecret(token);
  const seconds = Number(response.headers.get("x-auth-token-expires") ?? NaN);
  return {
    storageUrl,
    token,
    expiresAt: Number.isFinite(seconds) ? new Date(Date.now() + seconds * 1000) : undefined,
  };
}

/**
 * One authenticated session: the current token, renewed at most once at a
 * time (concurrent callers share the renewal in flight).
 */
export class SwiftSession {
  /** The credentials this session was made from. */
  readonly auth: SwiftAuthOptions;
  /** How many TempAuth authentications this session has done. */
  authCount = 0;
  #current: SwiftCredentials | undefined;
  #inflight: Promise<SwiftCredentials> | undefined;

  /**
   * Creates a `SwiftSession`
   *
   * @param auth A pre-authenticated token or TempAuth credentials.
   */
  constructor(auth: SwiftAuthOptions) {
    this.auth = auth;
    if ("token" in auth) {
      registerSecret(auth.token);
      this.#current = { storageUrl: auth.storageUrl.replace(/\/+$/, ""), token: auth.token };
    } else {
      registerSecret(auth.key);
    }
  }

  /** Whether a refused token can be replaced (TempAuth credentials are at hand). */
  get canRenew(): boolean {
    return !("token" in this.auth);
  }

  /**
   * The storage URL when it is known without a request: the pre-authenticated
   * one, the configured override, or the one the last authentication returned.
   *
   * @returns The storage URL or undefined.
   */
  knownStorageUrl(): string | undefined {
    if (this.#current) return this.#current.storageUrl;
    if (!("token" in this.auth) && this.auth.storageUrl) {
      return this.auth.storageUrl.replace(/\/+$/, "");
    }
    return undefined;
  }

  /**
   * The current credentials, authenticating first when there are none (or,
   * with `minValidityMs`, when the token expires sooner than that).
   *
   * @param minValidityMs Renew a token that expires within this many milliseconds.
   * @returns Storage URL and token.
   */
  async credentials(minValidityMs = 0): Promise<SwiftCredentials> {
    const current = this.#current;
    if (current) {
      const expiring = minValidityMs > 0 && this.canRenew && current.expiresAt !== undefined &&
        current.expiresAt.getTime() - Date.now() < minValidityMs;
      if (!expiring) return current;
      return await this.renew(current.token);
    }
    return await this.renew(undefined);
  }

  /**
   * Replaces the token `stale` (the one a 401 answered); when another caller
   * already replaced it, returns the new one without a request.
   *
   * @param stale The refused token, or undefined for the first authentication.
   * @returns Fresh credentials.
   * @throws {PermissionDeniedError} For a pre-authenticated token, which cannot be renewed.
   */
  renew(stale: string | undefined): Promise<SwiftCredentials> {
    if (this.#current && this.#current.token !== stale) return Promise.resolve(this.#current);
    if ("token" in this.auth) {
      return Promise.reject(
        new PermissionDeniedError(
          `Swift refused the pre-authenticated token for ${this.auth.storageUrl}: it may have expired (set ST_AUTH, ST_USER and ST_KEY to let ferry renew it)`,
        ),
      );
    }
    if (!this.#inflight) {
      const { authUrl, user, key, storageUrl } = this.auth;
      this.#inflight = (async () => {
        try {
          this.authCount++;
          const fresh = await authenticate(authUrl, user, key);
          if (storageUrl) fresh.storageUrl = storageUrl;
          fresh.storageUrl = fresh.storageUrl.replace(/\/+$/, "");
          this.#current = fresh;
          return fresh;
        } finally {
          this.#inflight = undefined;
        }
      })();
    }
    return this.#inflight;
  }
}

const sessions = new Map<string, SwiftSession>();

/**
 * The one shared session for these credentials (made on first use), so every
 * store over the same account shares its token and renewals.
 *
 * @example The same credentials give the same session
 * ```ts
 * import { swiftSession } from "./auth.ts";
 * import { equal } from "node:assert/strict";
 * const auth = { storageUrl: "http://127.0.0.1:1/v1/AUTH_x", token: "AUTH_tk_example" };
 * equal(swiftSession(auth), swiftSession({ ...auth }));
 * ```
 *
 * @param auth Pre-authenticated token or TempAuth credentials.
 * @returns The session.
 */
export function swiftSession(auth: SwiftAuthOptions): SwiftSession {
  const id = "token" in auth
    ? `token\n${auth.storageUrl}\n${auth.token}`
    : `tempauth\n${auth.authUrl}\n${auth.user}\n${auth.key}\n${auth.storageUrl ?? ""}`;
  let session = sessions.get(id);
  if (!session) {
    session = new SwiftSession(auth);
    sessions.set(id, session);
  }
  return session;
}
