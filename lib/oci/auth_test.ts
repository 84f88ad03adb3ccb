import { deepEqual, equal, rejects } from "node:assert/strict";
import { loadCredentials, parseChallenge, RegistryAuth } from "./auth.ts";
import { redact } from "../stores/redact.ts";

Deno.test("loadCredentials() reads the Docker config, then ORAS_USER/ORAS_PASS, and registers the secrets", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({
        auths: {
          "https://index.example/v1/": { auth: btoa("bob:pa:ss-word-1") },
          "plain.example:5000": { username: "carol", password: "carol-secret-2" },
        },
      }),
    );
    const env = (extra: Record<string, string> = {}) => (name: string) =>
      ({ DOCKER_CONFIG: dir, ...extra } as Record<string, string>)[name];
    deepEqual(await loadCredentials("index.example", { env: env() }), {
      username: "bob",
      password: "pa:ss-word-1",
    });
    deepEqual(await loadCredentials("plain.example:5000", { env: env() }), {
      username: "carol",
      password: "carol-secret-2",
    });
    deepEqual(
      await loadCredentials("other.example", {
        env: env({ ORAS_USER: "dan", ORAS_PASS: "dan-secret-3" }),
      }),
      { username: "dan", password: "dan-secret-3" },
    );
    equal(await loadCredentials("other.example", { env: env() }), undefined);
    equal(
      redact("failed with pa:ss-word-1 and carol-secret-2"),
      "failed with REDACTED and REDACTED",
    );
    await Deno.writeTextFile(`${dir}/config.json`, "{not json");
    await rejects(() => loadCredentials("x", { env: env() }), {
      name: "SyntaxError",
      message: `Invalid Docker config "${dir}/config.json": not JSON`,
    });
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ auths: { x: { auth: "!!!" } } }),
    );
    await rejects(() => loadCredentials("x", { env: env() }), {
      name: "SyntaxError",
      message: `Invalid Docker config "${dir}/config.json": auths entry for "x" is not base64`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseChallenge() reads quoted and bare parameters", () => {
  deepEqual(parseChallenge('Basic realm="test-registry"'), {
    scheme: "basic",
    params: { realm: "test-registry" },
  });
  deepEqual(
    parseChallenge(
      'Bearer realm="http://a/t?x=1",scope="repository:a:pull,push" , error=insufficient_scope',
    ),
    {
      scheme: "bearer",
      params: {
        realm: "http://a/t?x=1",
        scope: "repository:a:pull,push",
        error: "insufficient_scope",
      },
    },
  );
  equal(parseChallenge(null), undefined);
});

Deno.test("RegistryAuth.headerFor() sends Basic up front only with the basic backend", async () => {
  const credentials = { username: "u", password: "p-secret-4" };
  const basic = new RegistryAuth({ registry: "r", backend: "basic", credentials });
  equal(basic.headerFor(["repository:a:pull"]), `Basic ${btoa("u:p-secret-4")}`);
  const token = new RegistryAuth({ registry: "r", credentials });
  equal(token.headerFor(["repository:a:pull"]), undefined);
  const challenge = new Response(null, {
    status: 401,
    headers: { "www-authenticate": 'Basic realm="r"' },
  });
  equal(await token.answer(challenge, ["repository:a:pull"]), true);
  equal(token.headerFor(["repository:a:pull"]), `Basic ${btoa("u:p-secret-4")}`);
  // Already sent: a second challenge means the credentials are wrong.
  equal(
    await token.answer(challenge, ["repository:a:pull"], `Basic ${btoa("u:p-secret-4")}`),
    false,
  );
  equal(await new RegistryAuth({ registry: "r" }).answer(challenge, []), false);
});
