/**
 * `ferry swift …` and `ferry store …` on swift:// URLs, end to end, in
 * process through `main(args, io)`, against the live Swift on :8080.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { runCli } from "./_cli.ts";
import { getBytes, putBytes } from "../lib/stores/ext.ts";
import { clearStoreCache } from "../lib/stores/registry.ts";
import {
  SwiftClient,
  SwiftObjectStore,
  swiftSession,
  tempUrl,
  tempUrlKey,
} from "../lib/stores/swift/mod.ts";
import { liveEnv, uniqueName } from "./_live.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"], "Swift (:8080)");
const auth = env ? { authUrl: env.ST_AUTH, user: env.ST_USER, key: env.ST_KEY } : undefined;
const container = uniqueName("ferry-cli");
const options = { sanitizeOps: false, sanitizeResources: false, ignore: !env };
const text = (s: string) => new TextEncoder().encode(s);

function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args);
}

/** Asserts a failed run: non-zero exit, exactly one stderr line, nothing on stdout. */
function failedOnce(result: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  ok(result.code !== 0, `exit code ${result.code}`);
  equal(result.stdout, "");
  equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  match(result.stderr, pattern);
}

function store() {
  return new SwiftObjectStore({ container, auth: auth! });
}

async function storageUrl() {
  return (await swiftSession(auth!).credentials()).storageUrl;
}

Deno.test({
  name: "ferry swift auth prints storage URL, token and expiry",
  ...options,
  async fn() {
    const result = await ferry("swift", "auth");
    equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    deepEqual(Object.keys(json), ["storage_url", "token", "expires_at"]);
    match(json.storage_url, /^http:\/\/127\.0\.0\.1:8080\/v1\/AUTH_test$/);
    match(json.token, /^AUTH_tk/);
    ok(Date.parse(json.expires_at) > Date.now());
    const exported = await ferry("swift", "auth", "--export");
    match(
      exported.stdout,
      /^export OS_STORAGE_URL='http:[^']+'\nexport OS_AUTH_TOKEN='AUTH_tk\w+'\n$/,
    );
  },
});

Deno.test({
  name: "ferry swift public/private toggles anonymous reads and listings",
  ...options,
  async fn() {
    await putBytes(store(), "pub/hello.txt", text("hello public"));
    const objectUrl = `${await storageUrl()}/${container}/pub/hello.txt`;
    const listingUrl = `${await storageUrl()}/${container}?format=json`;
    const pub = await ferry("swift", "public", container);
    equal(pub.code, 0, pub.stderr);
    deepEqual(JSON.parse(pub.stdout), { container, read_acl: ".r:*,.rlistings" });
    let response = await fetch(objectUrl);
    equal(await response.text(), "hello public");
    response = await fetch(listingUrl);
    equal(response.status, 200);
    deepEqual((await response.json()).map((e: { name: string }) => e.name), ["pub/hello.txt"]);

    const priv = await ferry("swift", "private", container);
    equal(priv.code, 0, priv.stderr);
    deepEqual(JSON.parse(priv.stdout), { container, read_acl: null });
    for (const url of [objectUrl, listingUrl]) {
      response = await fetch(url);
      await response.body?.cancel();
      equal(response.status, 401, url);
    }
  },
});

Deno.test({
  name: "ferry swift public of an unknown container is a one-line error",
  ...options,
  async fn() {
    const missing = uniqueName("ferry-no-such");
    failedOnce(await ferry("swift", "public", missing), new RegExp(`"${missing}" does not exist`));
    failedOnce(await ferry("swift", "private", missing), /does not exist/);
    failedOnce(await ferry("swift", "public"), /Missing argument CONTAINER/);
  },
});

Deno.test({
  name: "ferry swift tempurl signs GET (sha256, sha512), PUT and prefix URLs",
  ...options,
  async fn() {
    await putBytes(store(), "temp/data.bin", text("temp bytes"));
    for (const digest of ["sha256", "sha512"]) {
      const result = await ferry(
        "swift",
        "tempurl",
        `swift://${container}/temp/data.bin`,
        "--digest",
        digest,
        "--create-key",
      );
      equal(result.code, 0, result.stderr);
      const url = result.stdout.trim();
      match(url, /\?temp_url_sig=[^&]+&temp_url_expires=\d+$/);
      const response = await fetch(url);
      equal(await response.text(), "temp bytes", digest);
      // a tampered signature is refused (a middle character: the last base64 one may be padding
      // bits; base64url signatures may hold '-', so match any character but '&')
      const tampered = url.replace(
        /(temp_url_sig=(?:sha512:)?[^&]{10})(.)/,
        (_, head, c) => `${head}${c === "a" ? "b" : "a"}`,
      );
      ok(tampered !== url);
      const refused = await fetch(tampered);
      await refused.body?.cancel();
      equal(refused.status, 401);
    }
    // an expired URL is refused
    const key = await tempUrlKey(new SwiftClient(swiftSession(auth!)));
    const expired = tempUrl(`${await storageUrl()}/${container}/temp/data.bin`, {
      key: key!,
      expiresAt: Math.floor(Date.now() / 1000) - 10,
    });
    const refused = await fetch(expired);
    await refused.body?.cancel();
    equal(refused.status, 401);

    // PUT
    const put = await ferry(
      "swift",
      "tempurl",
      `swift://${container}/temp/uploaded ü.txt`,
      "--method",
      "put",
      "--expires",
      "60",
    );
    equal(put.code, 0, put.stderr);
    const uploaded = await fetch(put.stdout.trim(), { method: "PUT", body: "via tempurl" });
    await uploaded.body?.cancel();
    equal(uploaded.status, 201);
    equal(new TextDecoder().decode(await getBytes(store(), "temp/uploaded ü.txt")), "via tempurl");

    // prefix: one signature for every object under temp/
    const prefix = await ferry("swift", "tempurl", `swift://${container}/temp/`, "--prefix");
    equal(prefix.code, 0, prefix.stderr);
    const signed = prefix.stdout.trim();
    match(signed, /&temp_url_prefix=temp%2F$/);
    const viaPrefix = await fetch(signed.replace("/temp/?", "/temp/data.bin?"));
    equal(await viaPrefix.text(), "temp bytes");
  },
});

Deno.test({
  name: "ferry swift tempurl rejects bad input in one line without secrets",
  ...options,
  async fn() {
    const url = `swift://${container}/temp/data.bin`;
    failedOnce(
      await ferry("swift", "tempurl", url, "--method", "PATCH"),
      /Invalid --method "PATCH"/,
    );
    failedOnce(
      await ferry("swift", "tempurl", url, "--expires", "soon"),
      /Invalid --expires "soon"/,
    );
    failedOnce(await ferry("swift", "tempurl", url, "--digest", "md5"), /Invalid --digest "md5"/);
    failedOnce(await ferry("swift", "tempurl", `swift://${container}`), /no object key/);
    const secret = "my-very-secret-tempurl-key";
    const bad = await ferry("swift", "tempurl", "https://host/not-swift", "--key", secret);
    failedOnce(bad, /Invalid TempURL target/);
    ok(!bad.stderr.includes(secret));
    failedOnce(await ferry("swift", "tempurl"), /Missing argument URL/);
  },
});

Deno.test({
  name: "ferry swift and store commands without credentials fail in one line",
  ...options,
  async fn() {
    const names = ["ST_AUTH", "ST_USER", "ST_KEY", "OS_STORAGE_URL", "OS_AUTH_TOKEN"];
    const saved = names.map((n) => [n, Deno.env.get(n)] as const);
    try {
      for (const n of names) Deno.env.delete(n);
      clearStoreCache();
      failedOnce(
        await ferry("swift", "auth"),
        /Missing TempAuth credentials: .*unset: ST_AUTH, ST_USER, ST_KEY/,
      );
      failedOnce(await ferry("swift", "public", container), /No Swift credentials/);
      failedOnce(await ferry("store", "ls", `swift://${container}/`), /No Swift credentials/);
      Deno.env.set("ST_AUTH", env!.ST_AUTH);
      Deno.env.set("ST_USER", env!.ST_USER);
      Deno.env.set("ST_KEY", "wrong-password-123");
      clearStoreCache();
      const denied = await ferry("swift", "auth");
      failedOnce(denied, /authentication failed for user "test:tester"/);
      ok(!denied.stderr.includes("wrong-password-123"));
      const deniedLs = await ferry("store", "ls", `swift://${container}/`);
      failedOnce(deniedLs, /authentication failed/);
      ok(!deniedLs.stderr.includes("wrong-password-123"));
    } finally {
      for (const [n, v] of saved) v === undefined ? Deno.env.delete(n) : Deno.env.set(n, v);
      clearStoreCache();
    }
  },
});

Deno.test({
  name: "ferry store ls|stat|cat|cp|rm work on swift:// URLs",
  ...options,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const local = `${dir}/local file.txt`;
      await Deno.writeTextFile(local, "0123456789");
      const base = `swift://${container}/store`;
      let r = await ferry("store", "cp", local, `${base}/a b.txt`);
      equal(r.code, 0, r.stderr);
      r = await ferry("store", "cp", `${base}/a b.txt`, `${base}/sub/copy.txt`);
      equal(r.code, 0, r.stderr);
      r = await ferry("store", "ls", `${base}/`);
      equal(r.stdout, "a b.txt\nsub/\n");
      r = await ferry("store", "ls", `${base}/`, "--recursive", "--json");
      deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l).key), [
        "store/a b.txt",
        "store/sub/copy.txt",
      ]);
      r = await ferry("store", "stat", `${base}/sub/copy.txt`);
      const stat = JSON.parse(r.stdout);
      equal(stat.size, 10);
      equal(stat.etag, "781e5e245d69b566979b86e28d23f2c7");
      r = await ferry("store", "cat", `${base}/a b.txt`, "--range", "2-4");
      equal(r.stdout, "234");
      r = await ferry("store", "cp", `${base}/sub/copy.txt`, `${dir}/back.txt`);
      equal(r.code, 0, r.stderr);
      equal(await Deno.readTextFile(`${dir}/back.txt`), "0123456789");
      r = await ferry("store", "rm", `${base}/a b.txt`);
      equal(r.code, 0, r.stderr);
      r = await ferry("store", "rm", `${base}/`, "--prefix");
      deepEqual(JSON.parse(r.stdout), { deleted: 1, errors: [] });
      r = await ferry("store", "ls", `${base}/`, "--recursive");
      equal(r.stdout, "");
      failedOnce(await ferry("store", "stat", `${base}/missing`), /404/);
      failedOnce(
        await ferry("store", "ls", `swift://${uniqueName("ferry-no-such")}/`),
        /does not exist/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "swift cli test cleanup",
  ...options,
  async fn() {
    const s = store();
    const keys: string[] = [];
    for await (const e of s.list("")) if (e.kind === "object") keys.push(e.key);
    deepEqual(await s.deleteMany(keys), []);
    const r = await s.client.request({ method: "DELETE", container });
    await r.body?.cancel();
  },
});
