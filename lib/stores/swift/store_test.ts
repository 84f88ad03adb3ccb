/**
 * The Swift driver against the live Swift on :8080 (and the 3-second-token
 * Swift on :8081): the conformance suite with TempAuth and with a
 * pre-authenticated token, plus SLO, bulk delete, re-auth and errors.
 */
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { liveEnv, uniqueName } from "../../../tests/_live.ts";
import { patternStream, runStoreConformance, sha256Of } from "../../../tests/store_conformance.ts";
import { getBytes, listAll, putBytes, streamOf } from "../ext.ts";
import {
  ConflictError,
  NotFoundError,
  NotSupportedError,
  PermissionDeniedError,
} from "../errors.ts";
import { authenticate, SwiftClient, SwiftObjectStore, swiftSession } from "./mod.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"], "Swift (:8080)");
const shortEnv = liveEnv(["SWIFT_SHORT_AUTH_URL"], "short-token Swift (:8081)");
const MIB = 1024 * 1024;
const container = uniqueName("ferry-swift");
const tempAuth = env ? { authUrl: env.ST_AUTH, user: env.ST_USER, key: env.ST_KEY } : undefined;

const options = { sanitizeOps: false, sanitizeResources: false, ignore: !env };

async function dropContainer(name: string) {
  if (!tempAuth) return;
  const client = new SwiftClient(swiftSession(tempAuth));
  for (const c of [name, `${name}_segments`]) {
    const store = new SwiftObjectStore({ container: c, auth: tempAuth });
    try {
      const keys: string[] = [];
      for await (const e of store.list("")) if (e.kind === "object") keys.push(e.key);
      await store.deleteMany(keys);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const r = await client.request({ method: "DELETE", container: c });
    await r.body?.cancel();
  }
}

if (env && tempAuth) {
  runStoreConformance({
    name: "swift",
    make: ({ listingPageSize }) =>
      new SwiftObjectStore({ container, auth: tempAuth, listingPageSize }),
    cleanup: () => dropContainer(container),
  });

  const tokenContainer = uniqueName("ferry-swift-token");
  let preauth: { storageUrl: string; token: string } | undefined;
  runStoreConformance({
    name: "swift (pre-authenticated token)",
    largeObjectBytes: 3 * MIB,
    async make({ listingPageSize }) {
      preauth ??= await authenticate(tempAuth.authUrl, tempAuth.user, tempAuth.key);
      return new SwiftObjectStore({
        container: tokenContainer,
        auth: { storageUrl: preauth.storageUrl, token: preauth.token },
        listingPageSize,
        segmentSizeBytes: MIB,
      });
    },
    cleanup: () => dropContainer(tokenContainer),
  });
}

Deno.test({
  name: "SwiftObjectStore re-authenticates once after its token expires",
  ...options,
  ignore: !env || !shortEnv,
  async fn() {
    const auth = { authUrl: shortEnv!.SWIFT_SHORT_AUTH_URL, user: env!.ST_USER, key: env!.ST_KEY };
    const store = new SwiftObjectStore({ container: uniqueName("ferry-reauth"), auth });
    await putBytes(store, "a.txt", new TextEncoder().encode("hello"));
    const session = store.client.session;
    const before = session.authCount;
    await new Promise((r) => setTimeout(r, 4000));
    // several concurrent requests with the expired token share one re-authentication
    const results = await Promise.all(
      Array.from({ length: 5 }, () => getBytes(store, "a.txt")),
    );
    for (const bytes of results) equal(new TextDecoder().decode(bytes), "hello");
    equal(session.authCount, before + 1);
    await store.delete("a.txt");
  },
});

Deno.test({
  name: "SwiftObjectStore.put() uploads SLO segments for known and unknown sizes",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({
      container,
      auth: tempAuth!,
      segmentSizeBytes: MIB,
    });
    const size = Math.round(5.5 * MIB);
    const [expected] = await sha256Of(patternStream(size, 3));
    for (const [key, known] of [["slo/known.bin", true], ["slo/unknown.bin", false]] as const) {
      const result = await store.put(key, patternStream(size, 3, 300_000), {
        size: known ? size : undefined,
      });
      equal(result.size, size);
      deepEqual(await sha256Of(await store.get(key)), [expected, size]);
      equal((await store.head(key)).size, size);
      const ranged = await getBytes(store, key);
      equal(ranged.byteLength, size);
      const manifest = await store.client.request({
        method: "GET",
        container,
        key,
        query: { "multipart-manifest": "get" },
      });
      const segments = await manifest.json() as { name: string; bytes: number }[];
      equal(segments.length, 6);
      ok(segments.every((s) => s.name.startsWith(`/${container}_segments/${key}/slo/`)));
      // the segments stay out of the container's own listing
      deepEqual(await listAll(store, `${key}/`), []);
    }
    const segmentStore = new SwiftObjectStore({
      container: `${container}_segments`,
      auth: tempAuth!,
    });
    equal((await listAll(segmentStore, "slo/known.bin/")).length, 6);
    // overwriting an SLO with a small object removes the old segments
    await putBytes(store, "slo/known.bin", new TextEncoder().encode("small now"));
    equal((await listAll(segmentStore, "slo/known.bin/")).length, 0);
    equal(new TextDecoder().decode(await getBytes(store, "slo/known.bin")), "small now");
    // deleting an SLO removes its segments
    await store.delete("slo/unknown.bin");
    await rejects(store.head("slo/unknown.bin"), NotFoundError);
    equal((await listAll(segmentStore, "slo/unknown.bin/")).length, 0);
  },
});

Deno.test({
  name: "SwiftObjectStore.put() of an unknown size within one segment writes a plain object",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container, auth: tempAuth!, segmentSizeBytes: 20 * MIB });
    const size = 12 * MIB; // beyond the 8 MiB look-ahead, within one segment
    const [expected] = await sha256Of(patternStream(size, 9));
    await store.put("plain/unknown.bin", patternStream(size, 9));
    deepEqual(await sha256Of(await store.get("plain/unknown.bin")), [expected, size]);
    const head = await store.client.request({
      method: "HEAD",
      container,
      key: "plain/unknown.bin",
    });
    equal(head.headers.get("x-static-large-object"), null);
    const segmentStore = new SwiftObjectStore({
      container: `${container}_segments`,
      auth: tempAuth!,
    });
    equal((await listAll(segmentStore, "plain/unknown.bin/")).length, 0);
  },
});

Deno.test({
  name:
    "SwiftObjectStore.put() streams a known size beyond the look-ahead and refuses a wrong length",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container, auth: tempAuth!, segmentSizeBytes: 20 * MIB });
    const size = 12 * MIB;
    const [expected] = await sha256Of(patternStream(size, 5));
    const result = await store.put("plain/known.bin", patternStream(size, 5), { size });
    equal(result.size, size);
    deepEqual(await sha256Of(await store.get("plain/known.bin")), [expected, size]);
    equal((await store.head("plain/known.bin")).etag, result.etag);
    // One byte short, then one byte too many: nothing becomes visible.
    for (const actual of [size - 1, size + 1]) {
      await rejects(store.put("plain/wrong.bin", patternStream(actual, 5), { size }));
      await rejects(store.head("plain/wrong.bin"), NotFoundError);
    }
  },
});

Deno.test({
  name: "SwiftObjectStore.put() of a failing SLO upload leaves no object and no segments",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container, auth: tempAuth!, segmentSizeBytes: MIB });
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 3 * MIB) return controller.error(new Error("source broke"));
        sent += 256 * 1024;
        controller.enqueue(new Uint8Array(256 * 1024));
      },
    });
    await rejects(store.put("slo/broken.bin", failing), /source broke/);
    await rejects(store.head("slo/broken.bin"), NotFoundError);
    const segmentStore = new SwiftObjectStore({
      container: `${container}_segments`,
      auth: tempAuth!,
    });
    equal((await listAll(segmentStore, "slo/broken.bin/")).length, 0);
  },
});

Deno.test({
  name: "SwiftObjectStore.list() pages past a small page limit with the marker",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container, auth: tempAuth!, listingPageSize: 3 });
    const keys = Array.from({ length: 10 }, (_, i) => `paged/${i}`);
    await Promise.all(keys.map((k) => putBytes(store, k, streamBytes(k))));
    deepEqual((await listAll(store, "paged/")).map((e) => e.kind === "object" && e.key), keys);
  },
});

Deno.test({
  name: "SwiftObjectStore.putIf() refuses an existing key and does not support ifMatch",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container, auth: tempAuth! });
    const bytes = new TextEncoder().encode("first");
    await store.putIf("cond/a", streamOf(bytes), { ifNoneMatch: "*" }, { size: 5 });
    await rejects(
      store.putIf("cond/a", streamOf(bytes), { ifNoneMatch: "*" }, { size: 5 }),
      ConflictError,
    );
    await rejects(store.putIf("cond/a", streamOf(bytes), { ifMatch: "abc" }), NotSupportedError);
    equal(new TextDecoder().decode(await getBytes(store, "cond/a")), "first");
  },
});

Deno.test({
  name: "SwiftObjectStore.copyWithin() copies on the server and urlOf() is the object URL",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container, auth: tempAuth! });
    await putBytes(store, "copy/src ü.txt", new TextEncoder().encode("copied"));
    await store.copyWithin("copy/src ü.txt", "copy/dst #1.txt");
    equal(new TextDecoder().decode(await getBytes(store, "copy/dst #1.txt")), "copied");
    await rejects(store.copyWithin("copy/missing", "copy/x"), NotFoundError);
    const url = store.urlOf("copy/dst #1.txt");
    const { storageUrl, token } = await store.client.session.credentials();
    equal(url, `${storageUrl}/${container}/copy/dst%20%231.txt`);
    const response = await fetch(url, { headers: { "X-Auth-Token": token } });
    equal(await response.text(), "copied");
  },
});

Deno.test({
  name: "SwiftObjectStore: a wrong password is a clear PermissionDeniedError without the password",
  ...options,
  async fn() {
    const password = "definitely-wrong-password";
    const store = new SwiftObjectStore({
      container,
      auth: { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: password },
    });
    const error = await rejects(store.head("x"), (e: Error) => {
      ok(e instanceof PermissionDeniedError);
      match(
        e.message,
        /authentication failed for user "test:tester" at http:\/\/127\.0\.0\.1:8080\/auth\/v1\.0/,
      );
      ok(!e.message.includes(password));
      return true;
    });
    void error;
  },
});

Deno.test({
  name: "SwiftObjectStore: a refused pre-authenticated token is a PermissionDeniedError without it",
  ...options,
  async fn() {
    const token = "AUTH_tk0000000000000000000000000000dead";
    const store = new SwiftObjectStore({
      container,
      auth: {
        storageUrl: (await authenticate(env!.ST_AUTH, env!.ST_USER, env!.ST_KEY)).storageUrl,
        token,
      },
    });
    await rejects(store.head("x"), (e: Error) => {
      ok(e instanceof PermissionDeniedError, String(e));
      ok(!e.message.includes(token));
      return true;
    });
  },
});

Deno.test({
  name: "SwiftObjectStore: writing to a container it may not create is a PermissionDeniedError",
  ...options,
  async fn() {
    // test:tester3 is not an account admin: it cannot create containers
    const store = new SwiftObjectStore({
      container: uniqueName("ferry-denied"),
      auth: { authUrl: env!.ST_AUTH, user: "test:tester3", key: "testing3" },
    });
    await rejects(putBytes(store, "a", new Uint8Array([1])), (e: Error) => {
      ok(e instanceof PermissionDeniedError, String(e));
      match(e.message, /ferry-denied-/);
      ok(!e.message.includes("testing3"));
      return true;
    });
  },
});

Deno.test({
  name: "SwiftObjectStore.list() of a missing container throws NotFoundError",
  ...options,
  async fn() {
    const store = new SwiftObjectStore({ container: uniqueName("ferry-missing"), auth: tempAuth! });
    await rejects(listAll(store, ""), NotFoundError);
    await store.delete("nothing"); // missing key (and container) is fine
    deepEqual(await store.deleteMany(["a", "b"]), []);
  },
});

Deno.test({
  name: "swift store test cleanup",
  ...options,
  fn: () => dropContainer(container),
});

function streamBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
