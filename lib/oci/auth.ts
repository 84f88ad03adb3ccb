/**
 * Registry credentials and authorization: the Docker config file (or
 * stacpkg's `ORAS_USER`/`ORAS_PASS`), HTTP Basic, and the Bearer token flow
 * (401 + `WWW-Authenticate: Bearer realm,service,scope` → a token from the
 * realm, asked with the Basic credentials when there are some). Every secret
 * is registered with `registerSecret`, so no message ever shows it.
 *
 * @module
 */
import { registerSecret } from "../stores/redact.ts";
import { PermissionDeniedError, TransientError } from "../stores/errors.ts";
import { type EnvReader, readEnv } from "../env.ts";

/** A user name and password (or token) for one registry. */
export interface RegistryCredentials {
  /** The user name. */
  username: string;
  /** The password or token. */
  password: string;
}

/**
 * How requests are authorized (stacpkg's `--auth-backend`): `token` answers
 * the registry's challenges (Bearer → a token from the realm, Basic → the
 * credentials); `basic` sends the credentials with every request up front.
 */
export type AuthBackend = "token" | "basic";

/** Where {@linkcode loadCredentials} looks. */
export interface CredentialSources {
  /** Environment (`DOCKER_CONFIG`, `HOME`, `ORAS_USER`, `ORAS_PASS`); a variable the process may not read counts as unset. @default readEnv */
  env?: EnvReader | undefined;
}

function registryKeyOf(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
}

/**
 * The credentials for `registry` (`host[:port]`): from the Docker config
 * (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; `auths` keyed by
 * host, with or without scheme and path; `auth` = base64 `user:password`, or
 * `username`/`password`), else from `ORAS_USER`/`ORAS_PASS` (what stacpkg's
 * Basic backend reads), else none. Each secret found is registered for
 * redaction.
 *
 * @example Reading a Docker config
 * ```ts
 * import { loadCredentials } from "./auth.ts";
 * import { deepEqual } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const auth = btoa("alice:s3cret-pass");
 * await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ auths: { "https://reg.example:5000": { auth } } }));
 * const env = (name: string) => (name === "DOCKER_CONFIG" ? dir : undefined);
 * deepEqual(await loadCredentials("reg.example:5000", { env }), { username: "alice", password: "s3cret-pass" });
 * deepEqual(await loadCredentials("other.example", { env }), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param registry `host[:port]`.
 * @param sources Where to look.
 * @returns The credentials, or undefined.
 * @throws {SyntaxError} When the config file is not JSON or its entry for the registry is malformed (the secret is not shown).
 */
export async function loadCredentials(
  registry: string,
  sources: CredentialSources = {},
): Promise<RegistryCredentials | undefined> {
  const env = sources.env ?? readEnv;
  const dir = env("DOCKER_CONFIG") || (env("HOME") ? `${env("HOME")}/.docker` : undefined);
  const fromConfig = dir === undefined
    ? undefined
    : await fromDockerConfig(`${dir}/config.json`, registry);
  if (fromConfig) return fromConfig;
  const username = env("ORAS_USER");
  const password = env("ORAS_PASS");
  if (username && password) {
    registerSecret(password);
    return { username, password };
  }
  return undefined;
}

async function fromDockerConfig(
  path: string,
  registry: string,
): Promise<RegistryCredentials | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(text);
  } catch {
    throw new SyntaxError(`Invalid Docker config "${path}": not JSON`);
  }
  const wanted = registry.toLowerCase();
  const entry = Object.entries(config.auths ?? {}).find(([key]) => registryKeyOf(key) === wanted)
    ?.[1];
  if (!entry) return undefined;
  if (typeof entry.auth === "string" && entry.auth !== "") {
    registerSecret(entry.auth);
    let decoded: string;
    try {
      decoded = atob(entry.auth);
    } catch {
      throw new SyntaxError(
        `Invalid Docker config "${path}": auths entry for "${registry}" is not base64`,
      );
    }
    const colon = decoded.indexOf(":");
    if (colon <= 0) {
      throw new SyntaxError(
        `Invalid Docker config "${path}": auths entry for "${registry}" is not base64 of user:password`,
      );
    }
    const password = decoded.slice(colon + 1);
    registerSecret(password);
    return { username: decoded.slice(0, colon), password };
  }
  if (entry.username && entry.password) {
    registerSecret(entry.password);
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** One `WWW-Authenticate` challenge. */
export interface AuthChallenge {
  /** `bearer` or `basic` (lower case). */
  scheme: string;
  /** Its parameters (`realm`, `service`, `scope`, ...), names in lower case. */
  params: Record<string, string>;
}

/**
 * Parses the first challenge of a `WWW-Authenticate` header.
 *
 * @example A Bearer challenge
 * ```ts
 * import { parseChallenge } from "./auth.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(
 *   parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'),
 *   { scheme: "bearer", params: { realm: "https://auth.example/token", service: "reg", scope: "repository:a/b:pull,push" } },
 * );
 * ```
 *
 * @param header The header value.
 * @returns The challenge, or undefined when there is none.
 */
export function parseChallenge(header: string | null): AuthChallenge | undefined {
  const match = header?.match(/^\s*([A-Za-z][A-Za-z0-9-]*)\s*(.*)$/s);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pattern = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  const rest = match[2]!;
  for (let m = pattern.exec(rest); m !== null && m[0] !== ""; m = pattern.exec(rest)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

/** Options of {@linkcode RegistryAuth}. */
export interface RegistryAuthOptions {
  /** `host[:port]`, for messages. */
  registry: string;
  /** The backend. @default "token" */
  backend?: AuthBackend | undefined;
  /** The credentials, when there are some. */
  credentials?: RegistryCredentials | undefined;
  /** The transport for token requests. @default fetch */
  fetch?: typeof fetch | undefined;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * The authorization state of one registry: which header each scope gets,
 * and how a 401 is answered. Tokens are cached per scope until shortly
 * before they expire.
 */
export class RegistryAuth {
  readonly #registry: string;
  readonly #backend: AuthBackend;
  readonly #credentials: RegistryCredentials | undefined;
  readonly #fetch: typeof fetch;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<CachedToken>>();
  #basicAsked = false;

  /**
   * Starts without tokens; registers the credentials for redaction.
   *
   * @param options Registry, backend, credentials, transport.
   */
  constructor(options: RegistryAuthOptions) {
    this.#registry = options.registry;
    this.#backend = options.backend ?? "token";
    this.#credentials = options.credentials;
    this.#fetch = options.fetch ?? fetch;
    if (this.#credentials) {
      registerSecret(this.#credentials.password);
      registerSecret(this.#basicValue());
    }
  }

  #basicValue(): string {
    const { username, password } = this.#credentials!;
    return btoa(String.fromCharCode(...new TextEncoder().encode(`${username}:${password}`)));
  }

  /**
   * The `Authorization` header for a request needing `scopes`, if any yet.
   *
   * @param scopes Token scopes, e.g. `repository:a/b:pull,push`.
   * @returns The header value, or undefined.
   */
  headerFor(scopes: readonly string[]): string | undefined {
    const cached = this.#tokens.get(scopeKey(scopes));
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    if (this.#credentials && (this.#backend === "basic" || this.#basicAsked)) {
      return `Basic ${this.#basicValue()}`;
    }
    return undefined;
  }

  /**
   * Answers a 401: fetches a token for a Bearer challenge (one request per
   * scope set, shared by concurrent callers), or switches to Basic for a
   * Basic challenge.
   *
   * @param response The 401 response (its body is not read).
   * @param scopes The scopes the request needed.
   * @param sent The `Authorization` the request carried, if any.
   * @returns True when the request should be sent again.
   * @throws {PermissionDeniedError} When the token service refuses the credentials.
   */
  async answer(
    response: Response,
    scopes: readonly string[],
    sent?: string | undefined,
  ): Promise<boolean> {
    const challenge = parseChallenge(response.headers.get("www-authenticate"));
    if (challenge?.scheme === "bearer" && challenge.params.realm) {
      const key = scopeKey(scopes);
      const current = this.#tokens.get(key);
      if (current && `Bearer ${current.token}` !== sent && current.expiresAt > Date.now()) {
        return true; // a concurrent request fetched a newer token meanwhile
      }
      let pending = this.#pending.get(key);
      if (!pending) {
        const wanted = [...scopes];
        for (const scope of (challenge.params.scope ?? "").split(" ")) {
          if (scope && !wanted.includes(scope)) wanted.push(scope);
        }
        pending = this.#fetchToken(challenge.params.realm, challenge.params.service, wanted)
          .finally(() => this.#pending.delete(key));
        this.#pending.set(key, pending);
      }
      this.#tokens.set(key, await pending);
      return true;
    }
    if (challenge?.scheme === "basic" && this.#credentials) {
      this.#basicAsked = true;
      return sent !== `Basic ${this.#basicValue()}`;
    }
    return false;
  }

  async #fetchToken(
    realm: string,
    service: string | undefined,
    scopes: readonly string[],
  ): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new PermissionDeniedError(
        `Registry "${this.#registry}" named an invalid token realm "${realm}"`,
      );
    }
    if (service) url.searchParams.set("service", service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    const headers: Record<string, string> = {};
    if (this.#credentials) headers.authorization = `Basic ${this.#basicValue()}`;
    let response: Response;
    try {
      response = await this.#fetch(url, { headers });
    } catch (error) {
      throw new TransientError(`Token service "${url.origin}" of "${this.#registry}" unreachable`, {
        cause: error,
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      const message = `Token service "${url.origin}" of "${this.#registry}" refused ${
        this.#credentials
          ? `the credentials of "${this.#credentials.username}"`
          : "anonymous access"
      } for "${scopes.join(" ")}" (${response.status})`;
      if (response.status >= 500) throw new TransientError(message);
      throw new PermissionDeniedError(message);
    }
    const body = await response.json().catch(() => ({})) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
    };
    const token = body.token ?? body.access_token;
    if (typeof token !== "string" || token === "") {
      throw new PermissionDeniedError(
        `Token service "${url.origin}" of "${this.#registry}" sent no token`,
      );
    }
    registerSecret(token);
    const seconds = typeof body.expires_in === "number" && body.expires_in > 0
      ? body.expires_in
      : 60;
    return { token, expiresAt: Date.now() + Math.max(1, seconds - 10) * 1000 };
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(" ");
}
