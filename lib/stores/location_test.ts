import { deepEqual, equal, throws } from "node:assert/strict";
import { formatHref, type Location, normalizeStoreType, parseHref, publicUrl } from "./location.ts";
import { bucketEnvSuffix, openLocation, s3OptionsFor, swiftAuthFor } from "./registry.ts";

const canonical = [
  "s3://bucket/a/b.tif",
  "s3://bucket/with space/ünï%code.tif",
  "swift://container/dir/x.json",
  "memory://scratch/k",
  "https://example.com/data/x.tif",
  "http://127.0.0.1:8080/v1/AUTH_test/c/o%20bj",
  "https://example.com/signed.tif?sig=abc&se=2026",
  "https://example.com",
  "file:///abs/path/a%20b.tif",
  "relative/path.tif",
];

Deno.test("parseHref() then formatHref() gives canonical hrefs back", () => {
  for (const href of canonical) equal(formatHref(parseHref(href)), href, href);
});

Deno.test("formatHref() then parseHref() gives locations back", () => {
  const locations: Location[] = [
    { store_type: "s3", store_container: "b", store_endpoint_url: null, key: "k/ 100%" },
    { store_type: "file", store_container: null, store_endpoint_url: null, key: "/x/ü y#z?.tif" },
    { store_type: "file", store_container: null, store_endpoint_url: null, key: "rel/a b" },
    {
      store_type: "https",
      store_container: "https://h:8443",
      store_endpoint_url: null,
      key: "p/q",
    },
    { store_type: "swift", store_container: "c", store_endpoint_url: null, key: "a/b" },
  ];
  for (const location of locations) deepEqual(parseHref(formatHref(location)), location);
});

Deno.test("parseHref() follows stacpkg for files, http and aliases", () => {
  deepEqual(parseHref("/data/x.tif"), {
    store_type: "file",
    store_container: null,
    store_endpoint_url: null,
    key: "/data/x.tif",
  });
  deepEqual(parseHref("https://h/x.tif?token=1"), {
    store_type: "https",
    store_container: "https://h/x.tif?token=1",
    store_endpoint_url: null,
    key: "",
  });
  equal(parseHref("s3a://b/k").store_type, "s3");
  equal(parseHref("local:///x").store_type, "file");
  equal(
    parseHref("swift://c/k", { endpoint: "http://sw/v1/AUTH_t" }).store_endpoint_url,
    "http://sw/v1/AUTH_t",
  );
  equal(normalizeStoreType("S3A"), "s3");
});

Deno.test("parseHref() rejects empty hrefs, unknown schemes and empty containers", () => {
  throws(() => parseHref(""), /Invalid href: it is empty/);
  throws(() => parseHref("gopher://x/y"), /Unknown store type "gopher"/);
  throws(() => parseHref("s3:///key"), /container name is empty/);
  throws(() => parseHref("file://remote/x"), /remote hosts are not supported/);
});

Deno.test("publicUrl() of a Swift location is the full, encoded object URL", () => {
  equal(
    publicUrl({
      store_type: "swift",
      store_container: "c",
      store_endpoint_url: "http://127.0.0.1:8080/v1/AUTH_test",
      key: "a b/ü.tif",
    }),
    "http://127.0.0.1:8080/v1/AUTH_test/c/a%20b/%C3%BC.tif",
  );
});

Deno.test("s3OptionsFor() prefers per-bucket variables, then AWS ones; the row's endpoint wins", () => {
  const vars: Record<string, string> = {
    FERRY_S3_ENDPOINT_MY_BUCKET_1: "http://per-bucket:9000",
    FERRY_S3_ACCESS_KEY_ID_MY_BUCKET_1: "AKPER",
    FERRY_S3_SECRET_ACCESS_KEY_MY_BUCKET_1: "per-secret",
    AWS_ACCESS_KEY_ID: "AKGLOBAL",
    AWS_SECRET_ACCESS_KEY: "global-secret",
    AWS_ENDPOINT_URL: "http://global:9000",
    AWS_REGION: "eu-central-1",
  };
  const env = (name: string) => vars[name];
  equal(bucketEnvSuffix("my-bucket.1"), "MY_BUCKET_1");
  const per = s3OptionsFor("my-bucket.1", null, env);
  equal(per.endpoint, "http://per-bucket:9000");
  equal(per.credentials?.accessKeyId, "AKPER");
  equal(per.region, "eu-central-1");
  equal(per.forcePathStyle, true);
  const other = s3OptionsFor("other", null, env);
  equal(other.endpoint, "http://global:9000");
  equal(other.credentials?.accessKeyId, "AKGLOBAL");
  equal(s3OptionsFor("other", "http://row:1", env).endpoint, "http://row:1");
});

Deno.test("swiftAuthFor() reads python-swiftclient's variables and fails clearly without them", () => {
  const tempauth = swiftAuthFor(
    null,
    (n) => ({ ST_AUTH: "http://a/auth/v1.0", ST_USER: "u", ST_KEY: "k" })[n],
  );
  deepEqual(tempauth, {
    authUrl: "http://a/auth/v1.0",
    user: "u",
    key: "k",
    storageUrl: undefined,
  });
  const token = swiftAuthFor(
    null,
    (n) => ({ OS_STORAGE_URL: "http://s/v1/A", OS_AUTH_TOKEN: "tk" })[n],
  );
  deepEqual(token, { storageUrl: "http://s/v1/A", token: "tk" });
  throws(() => swiftAuthFor(null, () => undefined), /No Swift credentials: set OS_STORAGE_URL/);
});

Deno.test("openLocation() resolves relative file paths against the working directory", () => {
  const { key } = openLocation("some/dir/../file.txt");
  equal("/" + key, `${Deno.cwd()}/some/file.txt`);
});
