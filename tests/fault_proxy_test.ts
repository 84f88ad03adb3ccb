/**
 * The fault proxy against the live Swift (native and s3api): a plain request
 * passes through byte-identical, and each kind of fault observably happens.
 */
import { deepEqual, equal, notEqual, ok, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { liveEnv, liveS3, uniqueName } from "./_live.ts";
import { type FaultProxyOptions, startFaultProxy } from "./fault_proxy.ts";
import { S3Store } from "../lib/stores/s3/mod.ts";
import { getBytes, putBytes } from "../lib/stores/ext.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY", "S3_ENDPOINT"] as const, "Swift (and s3api)");

/** A TempAuth token and storage URL straight from Swift, and a fresh container. */
async function swiftSetup() {
  const auth = await fetch(env!.ST_AUTH, {
    headers: { "X-Auth-User": env!.ST_USER, "X-Auth-Key": env!.ST_KEY },
  });
  await auth.body?.cancel();
  const token = auth.headers.get("x-auth-token")!;
  const storage = auth.headers.get("x-storage-url")!;
  const container = uniqueName("ferry-fault-proxy");
  const created = await fetch(`${storage}/${container}`, {
    method: "PUT",
    headers: { "X-Auth-Token": token },
  });
  await created.body?.cancel();
  ok(created.ok, `container: ${created.status}`);
  return { token, storage, container, upstream: new URL(env!.ST_AUTH).origin };
}

const bytes = new Uint8Array(1_500_000).map((_, i) => (i * 131 + (i >> 9)) & 0xff);
const md5 = createHash("md5").update(bytes).digest("hex");

async function withProxy(
  options: FaultProxyOptions,
  fn: (proxy: Awaited<ReturnType<typeof startFaultProxy>>) => Promise<void>,
) {
  const proxy = await startFaultProxy(options);
  try {
    await fn(proxy);
  } finally {
    await proxy.close();
  }
}

Deno.test({
  name: "startFaultProxy() without faults passes requests and bodies through byte-identical",
  ignore: env === undefined,
  async fn() {
    const { token, storage, container, upstream } = await swiftSetup();
    await withProxy({ upstream, seed: 1 }, async (proxy) => {
      const auth = await fetch(`${proxy.url}/auth/v1.0`, {
        headers: { "X-Auth-User": env!.ST_USER, "X-Auth-Key": env!.ST_KEY },
      });
      await auth.body?.cancel();
      equal(auth.status, 200);
      // The storage URL points back at the proxy, so a client keeps going through it.
      equal(
        auth.headers.get("x-storage-url"),
        proxy.url + storage.slice(upstream.length),
      );
      const viaProxy = `${auth.headers.get("x-storage-url")}/${container}/a%20b.bin`;
      const put = await fetch(viaProxy, {
        method: "PUT",
        headers: { "X-Auth-Token": token, ETag: md5 },
        body: bytes,
      });
      await put.body?.cancel();
      equal(put.status, 201);
      const direct = await fetch(`${storage}/${container}/a%20b.bin`, {
        headers: { "X-Auth-Token": token },
      });
      deepEqual(new Uint8Array(await direct.arrayBuffer()), bytes);
      const back = await fetch(viaProxy, { headers: { "X-Auth-Token": token } });
      equal(back.headers.get("etag"), md5);
      equal(back.headers.get("content-length"), String(bytes.byteLength));
      deepEqual(new Uint8Array(await back.arrayBuffer()), bytes);
      deepEqual(proxy.stats.requests, { GET: 2, PUT: 1 });
      equal(proxy.stats.events.length, 0);
      deepEqual(proxy.stats.log.map((e) => [e.method, e.status]), [
        ["GET", 200],
        ["PUT", 201],
        ["GET", 200],
      ]);
    });
  },
});

Deno.test({
  name: "startFaultProxy() forwards Host unchanged, so S3 SigV4 requests verify through it",
  ignore: env === undefined,
  async fn() {
    const upstream = new URL(env!.S3_ENDPOINT).origin;
    await withProxy({ upstream, seed: 1 }, async (proxy) => {
      const store = new S3Store({
        ...liveS3(uniqueName("ferry-fault-proxy"))!,
        endpoint: proxy.url,
      });
      await putBytes(store, "x/y.bin", bytes);
      deepEqual(await getBytes(store, "x/y.bin"), bytes);
      equal((await store.head("x/y.bin")).etag, md5);
      await store.delete("x/y.bin");
      ok((proxy.stats.requests.PUT ?? 0) >= 1);
    });
  },
});

Deno.test({
  name: "startFaultProxy() answers 503 with Retry-After: 1 without asking upstream",
  ignore: env === undefined,
  async fn() {
    const { token, storage, container, upstream } = await swiftSetup();
    await withProxy({ upstream, seed: 1, rates: { status503: 1 } }, async (proxy) => {
      const path = `${storage.slice(upstream.length)}/${container}/never.bin`;
      const put = await fetch(proxy.url + path, {
        method: "PUT",
        headers: { "X-Auth-Token": token },
        body: bytes,
      });
      equal(put.status, 503);
      equal(put.headers.get("retry-after"), "1");
      await put.body?.cancel();
      const head = await fetch(proxy.url + path, {
        method: "HEAD",
        headers: { "X-Auth-Token": token },
      });
      equal(head.status, 503);
      const direct = await fetch(upstream + path, {
        method: "HEAD",
        headers: { "X-Auth-Token": token },
      });
      equal(direct.status, 404);
      deepEqual(proxy.stats.faults.status503, { PUT: 1, HEAD: 1 });
      equal(proxy.count("status503"), 2);
    });
  },
});

Deno.test({
  name: "startFaultProxy() resets an upload mid-body: the client fails, nothing is stored",
  ignore: env === undefined,
  async fn() {
    const { token, storage, container, upstream } = await swiftSetup();
    await withProxy({ upstream, seed: 1, rates: { resetUpload: 1 } }, async (proxy) => {
      const path = `${storage.slice(upstream.length)}/${container}/reset.bin`;
      await rejects(
        fetch(proxy.url + path, { method: "PUT", headers: { "X-Auth-Token": token }, body: bytes })
          .then((r) => r.arrayBuffer()),
      );
      // A request without a body is never reset.
      const head = await fetch(proxy.url + path, {
        method: "HEAD",
        headers: { "X-Auth-Token": token },
      });
      equal(head.status, 404);
      deepEqual(proxy.stats.faults.resetUpload, { PUT: 1 });
      const [event] = proxy.stats.events;
      ok(event!.bytesBeforeCut > 0 && event!.bytesBeforeCut < bytes.byteLength);
    });
  },
});

Deno.test({
  name: "startFaultProxy() truncates a body and keeps its Content-Length: reading it fails",
  ignore: env === undefined,
  async fn() {
    const { token, storage, container, upstream } = await swiftSetup();
    const path = `${storage.slice(upstream.length)}/${container}/cut.bin`;
    const put = await fetch(upstream + path, {
      method: "PUT",
      headers: { "X-Auth-Token": token },
      body: bytes,
    });
    await put.body?.cancel();
    await withProxy({ upstream, seed: 1, rates: { truncateBody: 1 } }, async (proxy) => {
      const get = await fetch(proxy.url + path, { headers: { "X-Auth-Token": token } });
      equal(get.status, 200);
      equal(get.headers.get("content-length"), String(bytes.byteLength));
      await rejects(get.arrayBuffer());
      // A HEAD answer has no body to cut.
      const head = await fetch(proxy.url + path, {
        method: "HEAD",
        headers: { "X-Auth-Token": token },
      });
      equal(head.headers.get("content-length"), String(bytes.byteLength));
      deepEqual(proxy.stats.faults.truncateBody, { GET: 1 });
    });
  },
});

Deno.test({
  name: "startFaultProxy() draws the same faults for the same seed, whatever the interleaving",
  ignore: env === undefined,
  async fn() {
    const { token, storage, container, upstream } = await swiftSetup();
    const draws = async (seed: number, order: number[]) => {
      const faults: string[] = [];
      await withProxy({ upstream, seed, rates: { status503: 0.5 } }, async (proxy) => {
        for (const i of order) {
          const r = await fetch(`${proxy.url}${storage.slice(upstream.length)}/${container}/${i}`, {
            method: "HEAD",
            headers: { "X-Auth-Token": token },
          });
          await r.body?.cancel();
          if (r.status === 503) faults.push(String(i));
        }
      });
      return faults.sort();
    };
    const keys = Array.from({ length: 24 }, (_, i) => i);
    const first = await draws(5, keys);
    deepEqual(await draws(5, keys.toReversed()), first);
    notEqual((await draws(6, keys)).join(), first.join());
    ok(first.length > 3 && first.length < 21, first.join());
  },
});
