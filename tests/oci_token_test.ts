/**
 * The Bearer token flow against a registry with `token` auth: the test
 * starts its own registry (trusting a certificate made here) and a small
 * token server that signs ES256 JWTs with that certificate's key; and
 * `--insecure` against a registry with a self-signed TLS certificate.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { runCli, withTempDir } from "./_cli.ts";
import { buildTestPackage, filesOf } from "./_oci_package.ts";
import {
  makeCertificate,
  ownRegistrySkipReason,
  signRegistryToken,
  startRegistry,
  type TestCertificate,
} from "./_registry.ts";
import { PermissionDeniedError } from "../lib/stores/errors.ts";
import { pullPackage, pushPackage } from "../lib/oci/mod.ts";

const skip = ownRegistrySkipReason();
const USER = "alice";
const PASSWORD = "wonder-land-9";
const SERVICE = "ferry-test-registry";
const ISSUER = "ferry-test-issuer";

interface TokenRequest {
  scopes: string[];
  service: string | null;
  authorized: boolean;
}

function startTokenServer(
  cert: TestCertificate,
  log: TokenRequest[],
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    const scopes = url.searchParams.getAll("scope");
    const authorized =
      request.headers.get("authorization") === `Basic ${btoa(`${USER}:${PASSWORD}`)}`;
    log.push({ scopes, service: url.searchParams.get("service"), authorized });
    if (!authorized) return new Response("unauthorized", { status: 401 });
    const access = scopes.map((scope) => {
      const [type, ...rest] = scope.split(":");
      const actions = rest.pop()!.split(",");
      return { type: type!, name: rest.join(":"), actions };
    });
    const token = signRegistryToken(cert, {
      issuer: ISSUER,
      service: SERVICE,
      subject: USER,
      access,
    });
    return Response.json({ token, expires_in: 300 });
  });
}

Deno.test({
  name: "pushPackage() and pullPackage() get Bearer tokens from the registry's realm",
  ignore: skip !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const cert = await makeCertificate(dir);
      const log: TokenRequest[] = [];
      const tokens = startTokenServer(cert, log);
      const registry = await startRegistry({
        token: {
          realm: `http://127.0.0.1:${tokens.addr.port}/token`,
          service: SERVICE,
          issuer: ISSUER,
          rootCertBundle: cert.certPem,
        },
      });
      try {
        const pkg = await buildTestPackage(`${dir}/pkg`);
        const ref = `oci://${registry.host}/team/bearer:v1`;
        const credentials = { username: USER, password: PASSWORD };
        const pushed = await pushPackage(pkg, ref, { plainHttp: true, credentials });
        equal(pushed.uploaded + pushed.present, pushed.layers.length);
        equal(log.length > 0, true);
        equal(log.every((r) => r.authorized && r.service === SERVICE), true);
        equal(log.some((r) => r.scopes.includes("repository:team/bearer:pull,push")), true);
        // One token per scope set, shared by the concurrent layers.
        ok(log.length <= 2, `token requests: ${JSON.stringify(log)}`);

        log.length = 0;
        await pullPackage(ref, `${dir}/pulled`, { plainHttp: true, credentials });
        deepEqual(await filesOf(`${dir}/pulled`), await filesOf(pkg));
        equal(log.some((r) => r.scopes.includes("repository:team/bearer:pull")), true);

        // Anonymous: the token service refuses, nothing is written.
        await rejects(
          () => pullPackage(ref, `${dir}/anonymous`, { plainHttp: true, env: () => undefined }),
          (e: Error) =>
            e instanceof PermissionDeniedError && e.message.includes("refused anonymous access"),
        );
        await rejects(() => Deno.stat(`${dir}/anonymous`), Deno.errors.NotFound);
      } finally {
        await registry.stop();
        await tokens.shutdown();
      }
    });
  },
});

Deno.test({
  name: "ferry pull with a wrong password in the Docker config exits 4 without showing it",
  ignore: skip !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const cert = await makeCertificate(dir);
      const log: TokenRequest[] = [];
      const tokens = startTokenServer(cert, log);
      const registry = await startRegistry({
        token: {
          realm: `http://127.0.0.1:${tokens.addr.port}/token`,
          service: SERVICE,
          issuer: ISSUER,
          rootCertBundle: cert.certPem,
        },
      });
      const previous = Deno.env.get("DOCKER_CONFIG");
      try {
        const wrong = "not-the-password-42";
        await Deno.mkdir(`${dir}/docker`);
        await Deno.writeTextFile(
          `${dir}/docker/config.json`,
          JSON.stringify({ auths: { [registry.host]: { auth: btoa(`${USER}:${wrong}`) } } }),
        );
        Deno.env.set("DOCKER_CONFIG", `${dir}/docker`);
        const r = await runCli([
          "pull",
          `oci://${registry.host}/team/nothing:v1`,
          "--output-dir",
          `${dir}/out`,
          "--plain-http",
        ]);
        equal(r.code, 4, r.stderr);
        ok(r.stderr.includes('refused the credentials of "alice"'), r.stderr);
        equal(r.stderr.includes(wrong), false);
        equal(r.stderr.includes(btoa(`${USER}:${wrong}`)), false);
        equal(r.stderr.trim().split("\n").length, 1);
        await rejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound);
      } finally {
        if (previous === undefined) Deno.env.delete("DOCKER_CONFIG");
        else Deno.env.set("DOCKER_CONFIG", previous);
        await registry.stop();
        await tokens.shutdown();
      }
    });
  },
});

Deno.test({
  name:
    "ferry push --insecure reaches a registry with a self-signed certificate; without it, it is refused",
  ignore: skip !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const cert = await makeCertificate(dir);
      const registry = await startRegistry({
        tls: { certFile: cert.certFile, keyFile: cert.keyFile },
      });
      try {
        const pkg = await buildTestPackage(`${dir}/pkg`);
        const ref = `oci://${registry.host}/team/tls:v1`;
        const refused = await runCli(["push", pkg, ref]);
        equal(refused.code, 4, refused.stderr);
        ok(
          refused.stderr.includes(`TLS certificate of "${registry.host}" not trusted`),
          refused.stderr,
        );
        const pushed = await runCli(["push", pkg, ref, "--insecure"]);
        equal(pushed.code, 0, pushed.stderr);
        const pulled = await runCli(["pull", ref, "--insecure", "--output-dir", `${dir}/out`]);
        equal(pulled.code, 0, pulled.stderr);
        deepEqual(await filesOf(`${dir}/out`), await filesOf(pkg));
      } finally {
        await registry.stop();
      }
    });
  },
});
