/**
 * Container read ACLs against the live Swift: `ferry swift acl|public|private`
 * and zarr-swiftstore's `isPublic`/`togglePublic` add or remove only
 * `.r:*,.rlistings`, keeping other grants.
 */
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import * as zarr from "zarrita";
import { runCli } from "./_cli.ts";
import { liveEnv, uniqueName } from "./_live.ts";
import {
  getContainerRead,
  setContainerRead,
  SwiftClient,
  swiftSession,
} from "../lib/stores/swift/mod.ts";
import { isPublic, setPublic, SwiftStore, togglePublic } from "../lib/zarr/mod.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"] as const, "Swift (:8080)");
const options = { sanitizeOps: false, sanitizeResources: false, ignore: !env };
const auth = env ? { authUrl: env.ST_AUTH, user: env.ST_USER, key: env.ST_KEY } : undefined;
const OTHER_GRANTS = "test:tester2,.r:.example.com";

function client(): SwiftClient {
  return new SwiftClient(swiftSession(auth!));
}

async function anonymousStatus(url: string): Promise<number> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.status;
}

Deno.test({
  name: "ferry swift acl/public/private change only .r:*,.rlistings and keep other grants",
  ...options,
  async fn() {
    const container = uniqueName("ferry-acl");
    const swift = client();
    const put = await swift.request({ method: "PUT", container });
    await put.body?.cancel();
    const created = await swift.request({ method: "PUT", container, key: "o.txt", body: "hi" });
    await created.body?.cancel();
    ok(created.ok, `PUT object: ${created.status}`);
    const { storageUrl } = await swift.session.credentials();
    await setContainerRead(swift, container, OTHER_GRANTS);
    const objectUrl = `${storageUrl}/${container}/o.txt`;
    const ferry = async (...args: string[]) => {
      const r = await runCli(args);
      equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };

    deepEqual(await ferry("swift", "acl", container), {
      container,
      read_acl: OTHER_GRANTS,
      public: false,
    });
    deepEqual(await ferry("swift", "public", container), {
      container,
      read_acl: `${OTHER_GRANTS},.r:*,.rlistings`,
    });
    equal(await anonymousStatus(objectUrl), 200);
    deepEqual(await ferry("swift", "acl", container), {
      container,
      read_acl: `${OTHER_GRANTS},.r:*,.rlistings`,
      public: true,
    });
    // Public twice changes nothing.
    equal((await ferry("swift", "public", container)).read_acl, `${OTHER_GRANTS},.r:*,.rlistings`);
    deepEqual(await ferry("swift", "private", container), { container, read_acl: OTHER_GRANTS });
    equal(await getContainerRead(swift, container), OTHER_GRANTS);
    equal(await anonymousStatus(objectUrl), 401);
  },
});

Deno.test({
  name: "ferry swift acl of a missing container or without one is a one-line error",
  ...options,
  async fn() {
    const missing = uniqueName("ferry-acl-none");
    for (
      const [args, pattern] of [
        [
          ["swift", "acl", missing],
          new RegExp(`^ferry swift acl: Swift container "${missing}" does not exist$`),
        ],
        [["swift", "acl"], /^ferry swift acl: Missing argument CONTAINER/],
        [["swift", "acl", "a/b"], /Invalid Swift container name "a\/b"$/],
      ] as const
    ) {
      const r = await runCli([...args]);
      ok(r.code !== 0);
      equal(r.stdout, "");
      equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      match(r.stderr.trimEnd(), pattern);
    }
  },
});

Deno.test({
  name:
    "isPublic()/togglePublic() on a zarr SwiftStore toggle anonymous reads, keeping other grants",
  ...options,
  async fn() {
    const container = uniqueName("ferry-zarr-acl");
    const store = await SwiftStore.open({
      container,
      storageOptions: { authurl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY },
    });
    await zarr.create(zarr.root(store), { shape: [2], chunkShape: [2], dtype: "int8" });
    const swift = client();
    await setContainerRead(swift, container, "test:tester2");
    const { storageUrl } = await swift.session.credentials();
    const url = `${storageUrl}/${container}/zarr.json`;

    equal(await isPublic(store), false);
    equal(await togglePublic(store), true);
    equal(await isPublic(store), true);
    equal(await anonymousStatus(url), 200);
    equal(await getContainerRead(swift, container), "test:tester2,.r:*,.rlistings");
    equal(await togglePublic(store), false);
    equal(await isPublic(store), false);
    equal(await anonymousStatus(url), 401);
    equal(await getContainerRead(swift, container), "test:tester2");
    equal(await setPublic(store, false), "test:tester2");
    await rejects(setPublic(store.withReadOnly(true), true), /read-only/);
  },
});
