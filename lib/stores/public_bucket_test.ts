import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { runStoreConformance } from "../../tests/store_conformance.ts";
import { startPublicBucketServer } from "../../tests/_public_bucket_server.ts";
import { NotSupportedError, PermissionDeniedError } from "./errors.ts";
import { getBytes, readAll } from "./ext.ts";
import { formatHref, parseHref } from "./location.ts";
import { PublicBucketStore, publicBucketTarget } from "./public_bucket.ts";
import { openLocation } from "./registry.ts";

const server = await startPublicBucketServer();
const ACCOUNT = "devstoreaccount1";
const LISTING_CASES = [
  "listing without delimiter pages past the page size",
  "listing with delimiter groups prefixes, across pages",
  "keys with spaces, unicode, % and reserved characters",
];
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

runStoreConformance({
  name: "gs (public, over a local server with GCS's paths)",
  writable: false,
  seed: (key, bytes) => server.seed(`public-bucket/${key}`, bytes),
  largeObjectBytes: 12 * 1024 * 1024,
  make: () =>
    new PublicBucketStore({ type: "gs", container: "public-bucket", endpoint: server.origin }),
  skip: [{
    reason: "public reads have no listing (list throws NotSupportedError); the key cases " +
      "without the listing run in public_bucket_test.ts",
    tests: LISTING_CASES,
  }],
});

runStoreConformance({
  name: "az (public, over a local server with Azurite's paths)",
  writable: false,
  seed: (key, bytes) => server.seed(`${ACCOUNT}/public-container/${key}`, bytes),
  largeObjectBytes: 4 * 1024 * 1024,
  make: () =>
    new PublicBucketStore({
      type: "az",
      container: "public-container",
      endpoint: `${server.origin}/${ACCOUNT}`,
    }),
  skip: [{
    reason: "public reads have no listing (list throws NotSupportedError); the key cases " +
      "without the listing run in public_bucket_test.ts",
    tests: LISTING_CASES,
  }],
});

Deno.test({
  name:
    "PublicBucketStore reads keys with spaces, unicode, % and reserved characters as object names",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const store = new PublicBucketStore({
      type: "gs",
      container: "names",
      endpoint: server.origin,
    });
    const names = ["a b.txt", "ünï cødé/日本.bin", "100%.csv", "a%20b", "q?x#y&z=1+2.txt"];
    for (const name of names) await server.seed(`names/keys/${name}`, text(name));
    for (const name of names) {
      equal(decode(await getBytes(store, `keys/${name}`)), name);
      const meta = await store.head(`keys/${name}`);
      equal(meta.size, text(name).byteLength);
      equal(meta.key, `keys/${name}`);
    }
  },
});

Deno.test({
  name:
    "openLocation() opens gs:// through STORAGE_EMULATOR_HOST and az:// through the account's endpoint",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await server.seed("gs-bucket/dir/a.tif", text("gs bytes"));
    await server.seed(`${ACCOUNT}/az-container/dir/b.tif`, text("az bytes"));
    const vars: Record<string, string> = {
      STORAGE_EMULATOR_HOST: server.origin.replace("http://", ""),
      AZURE_STORAGE_ENDPOINT: `${server.origin}/${ACCOUNT}`,
    };
    const env = (name: string) => vars[name];
    const gs = openLocation("gs://gs-bucket/dir/a.tif", { env });
    equal(String(gs.store), `RetryStore(PublicBucketStore(gs://gs-bucket via ${server.origin}))`);
    equal(decode(await getBytes(gs.store, gs.key)), "gs bytes");
    const range = await readAll(await gs.store.get(gs.key, { range: { offset: 3, length: 5 } }));
    equal(decode(range), "bytes");
    const az = openLocation("az://az-container/dir/b.tif", { env });
    equal((await az.store.head(az.key)).size, 8);
    ok(server.msVersions.some((v) => v !== null), "az requests carry x-ms-version");
    // A row's own endpoint wins over the environment.
    const row = openLocation({
      store_type: "az",
      store_container: "az-container",
      store_endpoint_url: `${server.origin}/${ACCOUNT}`,
      key: "dir/b.tif",
    }, { env: () => undefined });
    equal(decode(await getBytes(row.store, row.key)), "az bytes");
  },
});

Deno.test({
  name:
    "PublicBucketStore: a non-public object is PermissionDeniedError; writes and listings are NotSupportedError",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await server.seed("locked/private/x.bin", text("secret"));
    const store = new PublicBucketStore({
      type: "gs",
      container: "locked",
      endpoint: server.origin,
    });
    await rejects(store.head("private/x.bin"), PermissionDeniedError);
    await rejects(store.put("a", new Blob([text("x")]).stream()), (error: Error) => {
      ok(error instanceof NotSupportedError);
      equal(
        error.message,
        'Cannot write "gs://locked/a": ferry reads gs objects anonymously over HTTPS and does not write them',
      );
      return true;
    });
    await rejects(store.delete("a"), NotSupportedError);
    await rejects(async () => {
      for await (const _ of store.list("")) break;
    }, NotSupportedError);
  },
});

Deno.test("publicBucketTarget() names the public endpoints and fails clearly without an Azure account", () => {
  const none = () => undefined;
  const loc = (type: "gs" | "az", container: string) => ({
    store_type: type,
    store_container: container,
    store_endpoint_url: null,
    key: "k",
  });
  deepEqual(publicBucketTarget(loc("gs", "b"), none), {
    endpoint: "https://storage.googleapis.com",
    container: "b",
  });
  deepEqual(
    publicBucketTarget(loc("az", "c"), (n) => ({ AZURE_STORAGE_ACCOUNT_NAME: "acct" })[n]),
    { endpoint: "https://acct.blob.core.windows.net", container: "c" },
  );
  deepEqual(publicBucketTarget(loc("az", "c@acct.dfs.core.windows.net"), none), {
    endpoint: "https://acct.blob.core.windows.net",
    container: "c",
  });
  throws(
    () => publicBucketTarget(loc("az", "c"), none),
    /^TypeError: No Azure account for "az:\/\/c\/k": set AZURE_STORAGE_ACCOUNT_NAME or AZURE_STORAGE_ENDPOINT/,
  );
  throws(
    () => new PublicBucketStore({ type: "gs", container: "", endpoint: "https://x" }),
    /Invalid gs container ""/,
  );
});

Deno.test("parseHref() and formatHref() round-trip gs:// and az:// hrefs as stacpkg names them", () => {
  for (const href of ["gs://bucket/a/b c.tif", "az://container/x.tif", "gs://b/"]) {
    equal(formatHref(parseHref(href)), href);
  }
  deepEqual(parseHref("gcs://b/k"), parseHref("gs://b/k"));
  deepEqual(parseHref("abfs://c/k"), parseHref("az://c/k"));
  equal(
    formatHref(parseHref("abfss://c@a.dfs.core.windows.net/k")),
    "az://c@a.dfs.core.windows.net/k",
  );
  // The public HTTPS forms stay https locations, as stacpkg records them.
  for (
    const href of [
      "https://storage.googleapis.com/bucket/a.tif",
      "https://acct.blob.core.windows.net/container/a.tif",
    ]
  ) {
    const location = parseHref(href);
    equal(location.store_type, "https");
    equal(formatHref(location), href);
  }
  throws(() => parseHref("gs:///k"), /Invalid gs URL "gs:\/\/\/k": the container name is empty/);
});

Deno.test({
  name: "public bucket server: stop",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => server.close(),
});
