// deno-lint-ignore-file no-console
/**
 * Registries the OCI tests start themselves: a CNCF distribution registry
 * (`docker-registry`, as tests/services/start-registry.sh runs it) on a free
 * loopback port with its own state folder, optionally with `token` auth
 * (trusting a certificate the test made) or TLS, plus the small pieces those
 * need: a self-signed certificate and ES256 JWTs the registry accepts.
 */
import { createPrivateKey, randomUUID, sign } from "node:crypto";

/** A registry started by a test. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Its state folder (storage under `data/`). */
  stateDir: string;
  /** Stops it (the process this helper started) and removes its state. */
  stop(): Promise<void>;
}

/** Token auth settings. */
export interface TokenAuthConfig {
  /** The token endpoint. */
  realm: string;
  /** The service name tokens are issued for. */
  service: string;
  /** The issuer tokens carry. */
  issuer: string;
  /** PEM certificate(s) whose keys sign tokens. */
  rootCertBundle: string;
}

const BINARY = "/usr/bin/docker-registry";

/** Whether the registry binary is installed (tests/services/start-registry.sh installs it). */
export function registryInstalled(): boolean {
  try {
    return Deno.statSync(BINARY).isFile;
  } catch {
    return false;
  }
}

/**
 * Why registry tests that start their own registry cannot run here, or
 * undefined when they can. Under CI a missing binary fails the test.
 */
export function ownRegistrySkipReason(): string | undefined {
  if (registryInstalled()) return undefined;
  const reason = `${BINARY} is not installed: run tests/services/start.sh`;
  if (Deno.env.get("CI") === "true") throw new Error(reason);
  console.warn(`skipping: ${reason}`);
  return reason;
}

/** A free loopback port (taken and released; the race is accepted in tests). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts a registry on a free port; waits until `/v2/` answers.
 *
 * @param options Token auth and/or TLS (PEM files).
 * @returns The running registry.
 */
export async function startRegistry(
  options: { token?: TokenAuthConfig; tls?: { certFile: string; keyFile: string } } = {},
): Promise<TestRegistry> {
  const stateDir = await Deno.makeTempDir({ prefix: "ferry-test-registry-" });
  const port = freePort();
  let auth = "";
  if (options.token) {
    await Deno.writeTextFile(`${stateDir}/token-ca.pem`, options.token.rootCertBundle);
    auth = `auth:
  token:
    realm: ${options.token.realm}
    service: ${options.token.service}
    issuer: ${options.token.issuer}
    rootcertbundle: ${stateDir}/token-ca.pem
`;
  }
  const tls = options.tls
    ? `  tls:\n    certificate: ${options.tls.certFile}\n    key: ${options.tls.keyFile}\n`
    : "";
  await Deno.writeTextFile(
    `${stateDir}/config.yml`,
    `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${stateDir}/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: ferry-test-${randomUUID()}
${tls}${auth}`,
  );
  // distribution treats every REGISTRY_* variable as a config override.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("REGISTRY_")) env[k] = v;
  }
  const log = await Deno.open(`${stateDir}/registry.log`, { write: true, create: true });
  const child = new Deno.Command(BINARY, {
    args: ["serve", `${stateDir}/config.yml`],
    clearEnv: true,
    env,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logging = child.stderr.pipeTo(log.writable).catch(() => {});
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`Registry on ${host} did not start: see ${stateDir}/registry.log`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    host,
    stateDir,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await logging;
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    },
  };
}

/** A key pair and self-signed certificate made with openssl. */
export interface TestCertificate {
  /** PEM certificate. */
  certPem: string;
  /** PEM private key. */
  keyPem: string;
  /** Files holding them. */
  certFile: string;
  /** The key's file. */
  keyFile: string;
  /** The certificate's DER bytes, base64 (for a JWT `x5c` header). */
  derBase64: string;
}

/**
 * Makes an EC P-256 key and a self-signed certificate (with `127.0.0.1` as
 * an IP SAN) in `dir`.
 *
 * @param dir Where the files go.
 * @returns The certificate.
 */
export async function makeCertificate(dir: string): Promise<TestCertificate> {
  const keyFile = `${dir}/key.pem`;
  const certFile = `${dir}/cert.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      "/CN=ferry-test",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
  const certPem = await Deno.readTextFile(certFile);
  const derBase64 = certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return { certPem, keyPem: await Deno.readTextFile(keyFile), certFile, keyFile, derBase64 };
}

function base64url(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return btoa(String.fromCharCode(...data)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/**
 * A registry token: an ES256 JWT carrying the certificate in `x5c`, granting
 * `access` for `service`.
 *
 * @param cert The signing certificate.
 * @param claims Issuer, audience (service), subject and access entries.
 * @returns The token.
 */
export function signRegistryToken(
  cert: TestCertificate,
  claims: {
    issuer: string;
    service: string;
    subject: string;
    access: { type: string; name: string; actions: string[] }[];
  },
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [cert.derBase64] }));
  const payload = base64url(JSON.stringify({
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.service,
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: randomUUID(),
    access: claims.access,
  }));
  const signature = sign("sha256", new TextEncoder().encode(`${header}.${payload}`), {
    key: createPrivateKey(cert.keyPem),
    dsaEncoding: "ieee-p1363",
  });
  return `${header}.${payload}.${base64url(new Uint8Array(signature))}`;
}

/** What a {@linkcode countingFetch} saw. */
export interface FetchLog {
  /** Every request: method, URL path, `Range` header, response status. */
  requests: { method: string; path: string; range: string | null; status?: number }[];
  /** Bytes of request bodies sent to blob upload URLs. */
  uploadBytes: number;
}

/** An empty log. */
export function newFetchLog(): FetchLog {
  return { requests: [], uploadBytes: 0 };
}

/**
 * A `fetch` that records what it sends and what status came back (for "a
 * second push sends no blob"), optionally wrapping another transport.
 *
 * @param log Where requests are recorded.
 * @param inner The transport underneath.
 * @returns The fetch.
 */
export function countingFetch(log: FetchLog, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const entry: FetchLog["requests"][number] = {
      method: (init.method ?? "GET").toUpperCase(),
      path: url.pathname,
      range: new Headers(init.headers).get("range"),
    };
    log.requests.push(entry);
    let body = init.body;
    if (body instanceof ReadableStream && url.pathname.includes("/blobs/uploads/")) {
      body = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            log.uploadBytes += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
      );
    }
    const response = await inner(input, { ...init, body });
    entry.status = response.status;
    return response;
  };
}
