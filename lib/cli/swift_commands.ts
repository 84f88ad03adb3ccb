/**
 * `ferry swift auth|acl|public|private|tempurl`: Swift account utilities.
 * Credentials come from the environment (`ST_AUTH`/`ST_USER`/`ST_KEY`, or
 * `OS_STORAGE_URL`/`OS_AUTH_TOKEN`).
 *
 * `swift tempurl` takes the signing key from `--key`, else
 * `FERRY_SWIFT_TEMPURL_KEY`, else the account's `X-Account-Meta-Temp-URL-Key`
 * (or `-Key-2`). When the account has none it does not set one silently
 * (that changes account state other clients rely on): it fails, and
 * `--create-key` sets a random 256-bit key on the account first. `--expires`
 * is seconds from now (default 3600). The signed URL is printed to stdout and
 * nowhere else; `swift auth` likewise prints the token, its purpose.
 *
 * @module
 */
import { type Command, EXIT, positional, writeJsonLine, writeText } from "./command.ts";
import { readEnv } from "../env.ts";
import { parseHref } from "../stores/location.ts";
import { registerSecret } from "../stores/redact.ts";
import { swiftAuthFor, swiftTempAuthFromEnv } from "../stores/registry.ts";
import {
  authenticate,
  getContainerRead,
  isPublicReadAcl,
  PUBLIC_READ_ACL,
  setContainerPublic,
  SwiftClient,
  swiftPath,
  swiftSession,
  TEMP_URL_METHODS,
  tempUrl,
  type TempUrlDigest,
  tempUrlKey,
  type TempUrlMethod,
} from "../stores/swift/mod.ts";

function accountClient(): SwiftClient {
  return new SwiftClient(swiftSession(swiftAuthFor(null)));
}

const auth: Command = {
  name: ["swift", "auth"],
  summary:
    "Authenticate with TempAuth (ST_AUTH, ST_USER, ST_KEY); print storage URL, token, expiry",
  usage: "[--export]",
  args: { boolean: ["export"] },
  async run(args, io) {
    const { authUrl, user, key } = swiftTempAuthFromEnv();
    const creds = await authenticate(authUrl, user, key);
    const expiresAt = creds.expiresAt?.toISOString() ?? null;
    if (args.export) {
      const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      await writeText(
        io.stdout,
        `export OS_STORAGE_URL=${quote(creds.storageUrl)}\nexport OS_AUTH_TOKEN=${
          quote(creds.token)
        }\n`,
      );
    } else {
      await writeJsonLine(io.stdout, {
        storage_url: creds.storageUrl,
        token: creds.token,
        expires_at: expiresAt,
      });
    }
    return EXIT.ok;
  },
};

const aclCommand: Command = {
  name: ["swift", "acl"],
  summary: "Print a container's read ACL and whether anyone may read it (.r:*)",
  usage: "CONTAINER",
  args: {},
  async run(args, io) {
    const container = positional(args, 0, "CONTAINER");
    const readAcl = await getContainerRead(accountClient(), container);
    await writeJsonLine(io.stdout, {
      container,
      read_acl: readAcl,
      public: isPublicReadAcl(readAcl),
    });
    return EXIT.ok;
  },
};

const publicCommand: Command = {
  name: ["swift", "public"],
  summary:
    `Let anyone read and list a container: add ${PUBLIC_READ_ACL} to its read ACL, keeping other grants`,
  usage: "CONTAINER",
  args: {},
  async run(args, io) {
    const container = positional(args, 0, "CONTAINER");
    const readAcl = await setContainerPublic(accountClient(), container, true);
    await writeJsonLine(io.stdout, { container, read_acl: readAcl });
    return EXIT.ok;
  },
};

const privateCommand: Command = {
  name: ["swift", "private"],
  summary:
    `Stop anonymous reads and listings: remove ${PUBLIC_READ_ACL} from a container's read ACL, keeping other grants`,
  usage: "CONTAINER",
  args: {},
  async run(args, io) {
    const container = positional(args, 0, "CONTAINER");
    const readAcl = await setContainerPublic(accountClient(), container, false);
    await writeJsonLine(io.stdout, { container, read_acl: readAcl });
    return EXIT.ok;
  },
};

/**
 * Parses the `--expires` flag: a positive whole number of seconds from now.
 *
 * @param text The flag's value.
 * @returns Seconds.
 */
export function parseExpiresFlag(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw new RangeError(`Invalid --expires "${text}": expected a positive number of seconds`);
  }
  return Number(text);
}

const tempurl: Command = {
  name: ["swift", "tempurl"],
  summary:
    "Print a TempURL (HMAC-signed, no token needed) for an object or, with --prefix, a prefix",
  usage:
    "URL [--method GET|PUT|HEAD|POST|DELETE] [--expires SECONDS] [--digest sha256|sha512] [--prefix] [--key KEY] [--create-key]",
  args: {
    string: ["method", "expires", "digest", "key"],
    boolean: ["prefix", "create-key"],
    default: { method: "GET", expires: "3600", digest: "sha256" },
  },
  async run(args, io) {
    const target = positional(args, 0, "URL");
    const method = String(args.method).toUpperCase() as TempUrlMethod;
    if (!TEMP_URL_METHODS.includes(method)) {
      throw new TypeError(
        `Invalid --method "${args.method}": expected one of ${TEMP_URL_METHODS.join(", ")}`,
      );
    }
    const digest = String(args.digest) as TempUrlDigest;
    if (digest !== "sha256" && digest !== "sha512") {
      throw new TypeError(`Invalid --digest "${args.digest}": expected sha256 or sha512`);
    }
    const seconds = parseExpiresFlag(String(args.expires));
    let url: string;
    let client: SwiftClient | undefined;
    if (/^https?:\/\//i.test(target)) {
      url = target;
    } else {
      const location = parseHref(target);
      if (location.store_type !== "swift") {
        throw new TypeError(`Invalid URL "${target}": expected swift://CONTAINER/KEY or https://…`);
      }
      if (location.key === "" && !args.prefix) {
        throw new TypeError(`Invalid URL "${target}": no object key (use --prefix for a prefix)`);
      }
      client = accountClient();
      const { storageUrl } = await client.session.credentials();
      url = storageUrl + swiftPath(location.store_container!, location.key);
      if (location.key === "") url += "/";
    }
    let key = typeof args.key === "string" ? args.key : readEnv("FERRY_SWIFT_TEMPURL_KEY");
    registerSecret(key);
    if (!key) {
      key = await tempUrlKey(client ?? accountClient(), { create: args["create-key"] === true });
    }
    if (!key) {
      throw new Error(
        "The Swift account has no Temp-URL key: pass --key, set FERRY_SWIFT_TEMPURL_KEY, or pass --create-key to set one on the account",
      );
    }
    const expiresAt = Math.floor(Date.now() / 1000) + seconds;
    await writeText(
      io.stdout,
      tempUrl(url, { key, method, expiresAt, digest, prefix: args.prefix === true }) + "\n",
    );
    return EXIT.ok;
  },
};

/** The `swift` commands. */
export const swiftCommands: Command[] = [
  auth,
  aclCommand,
  publicCommand,
  privateCommand,
  tempurl,
];
