/**
 * The HTTP drivers against the live Swift (native and s3api) through the
 * fault proxy: a body cut off mid-way is a `TransientError` naming the
 * object (never a short stream), and retries see it as one.
 */
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { liveEnv, liveS3, uniqueName } from "../../tests/_live.ts";
import { type FaultProxyOptions, startFaultProxy } from "../../tests/fault_proxy.ts";
import { TransientError } from "./errors.ts";
import { getBytes, listAll, putBytes } from "./ext.ts";
import { HttpStore } from "./http.ts";
import { RetryStore } from "./retry_store.ts";
import { S3Store } from "./s3/mod.ts";
import type { ObjectStore } from "./store.ts";
import { authenticate, SwiftObjectStore } from "./swift/mod.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY", "S3_ENDPOINT"] as const, "Swift (and s3api)");
const bytes = new Uint8Array(600_000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);

async function withProxy(
  options: Omit<FaultProxyOptions, "upstream">,
  fn: (url: string, proxy: Awaited<ReturnType<typeof startFaultProxy>>) => Promise<void>,
) {
  const proxy = await startFaultProxy({ upstream: new URL(env!.ST_AUTH).origin, ...options });
  try {
    await fn(proxy.url, proxy);
  } finally {
    await proxy.close();
  }
}

/** Reads the whole body; rejects as the stream does. */
async function drain(store: ObjectStore, key: string) {
  for await (const _ of await store.get(key)) {
    // consumed
  }
}

Deno.test({
  name:
    "SwiftObjectStore, S3Store and HttpStore get(): a truncated body errors with TransientError naming the key",
  ignore: env === undefined,
  async fn() {
    const container = uniqueName("ferry-truncated");
    const auth = { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY };
    await putBytes(new SwiftObjectStore({ container, auth }), "a/x.bin", bytes);
    const s3 = liveS3(uniqueName("ferry-truncated"))!;
    await putBytes(new S3Store(s3), "a/x.bin", bytes);
    const { token, storageUrl } = await authenticate(auth.authUrl, auth.user, auth.key);
    const storagePath = new URL(storageUrl).pathname;

    await withProxy({ seed: 1, rates: { truncateBody: 1 } }, async (url, proxy) => {
      const stores: ObjectStore[] = [
        new SwiftObjectStore({ container, auth: { ...auth, authUrl: `${url}/auth/v1.0` } }),
        new S3Store({ ...s3, endpoint: url }),
        new HttpStore({
          baseUrl: `${url}${storagePath}/${container}`,
          headers: { "X-Auth-Token": token },
        }),
      ];
      for (const store of stores) {
        const error = await drain(store, "a/x.bin").then(() => undefined, (e) => e);
        ok(error instanceof TransientError, `${store}: ${error}`);
        match(error.message, /a\/x\.bin.* broke off after \d+ of 600000 bytes/);
        equal(error.key, "a/x.bin");
      }
      equal(proxy.count("truncateBody"), 3);
    });

    // The same reads without faults are byte-identical.
    await withProxy({ seed: 1 }, async (url) => {
      const swift = new SwiftObjectStore({
        container,
        auth: { ...auth, authUrl: `${url}/auth/v1.0` },
      });
      deepEqual(await getBytes(swift, "a/x.bin"), bytes);
      deepEqual(await getBytes(new S3Store({ ...s3, endpoint: url }), "a/x.bin"), bytes);
    });
  },
});

Deno.test({
  name: "RetryStore.list() retries a listing whose body is cut off, as a transient failure",
  ignore: env === undefined,
  async fn() {
    const container = uniqueName("ferry-truncated-list");
    const auth = { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY };
    const direct = new SwiftObjectStore({ container, auth });
    for (const name of ["a", "b", "c"]) await putBytes(direct, `l/${name}`, bytes.subarray(0, 10));
    await withProxy({
      seed: 1,
      rates: { truncateBody: 1 },
      filter: ({ target }) => target.includes("format=json"),
    }, async (url, proxy) => {
      const swift = new SwiftObjectStore({
        container,
        auth: { ...auth, authUrl: `${url}/auth/v1.0` },
      });
      const store = new RetryStore(swift, { maxAttempts: 3, baseDelayMs: 1 });
      await rejects(listAll(store, "l/"), TransientError);
      deepEqual(proxy.stats.faults.truncateBody, { GET: 3 });
    });
  },
});

Deno.test({
  name:
    "SwiftObjectStore and S3Store head(): an answer without Content-Length is an error, never a 0-byte object",
  ignore: env === undefined,
  async fn() {
    const container = uniqueName("ferry-no-length");
    const auth = { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY };
    await putBytes(new SwiftObjectStore({ container, auth }), "x.bin", bytes);
    const s3 = liveS3(uniqueName("ferry-no-length"))!;
    await putBytes(new S3Store(s3), "x.bin", bytes);
    const drop = { methods: ["HEAD"], names: ["content-length"] };
    await withProxy({ seed: 1, dropResponseHeaders: drop }, async (url) => {
      const swift = new SwiftObjectStore({
        container,
        auth: { ...auth, authUrl: `${url}/auth/v1.0` },
      });
      await rejects(swift.head("x.bin"), /Swift HEAD ".*\/x\.bin" answered without a size/);
      await rejects(
        new S3Store({ ...s3, endpoint: url }).head("x.bin"),
        /Cannot head "s3:\/\/.*\/x\.bin": answered without a size/,
      );
    });
  },
});
