import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { liveEnv, uniqueName } from "../../tests/_live.ts";
import { getBytes, putBytes } from "./ext.ts";
import { openLocation, s3OptionsFor, stacpkgBucketEnvSuffix } from "./registry.ts";

const reader = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("s3OptionsFor() reads stacpkg's per-bucket variables after ferry's own", () => {
  equal(stacpkgBucketEnvSuffix("my..bucket-1."), "MY_BUCKET_1");
  const vars = {
    STACPKG_S3_ENDPOINT_MY_BUCKET_1: "minio.example:9000/",
    STACPKG_S3_ACCESS_KEY_ID_MY_BUCKET_1: "AKSTACPKG",
    STACPKG_S3_SECRET_ACCESS_KEY_MY_BUCKET_1: "stacpkg-secret",
    STACPKG_S3_SESSION_TOKEN_MY_BUCKET_1: "stacpkg-token",
    STACPKG_S3_REGION_MY_BUCKET_1: "eu-west-3",
    AWS_ACCESS_KEY_ID: "AKGLOBAL",
    AWS_SECRET_ACCESS_KEY: "global-secret",
    AWS_REGION: "us-west-2",
  };
  const options = s3OptionsFor("my..bucket-1.", null, reader(vars));
  equal(options.endpoint, "https://minio.example:9000");
  deepEqual(options.credentials, {
    accessKeyId: "AKSTACPKG",
    secretAccessKey: "stacpkg-secret",
    sessionToken: "stacpkg-token",
  });
  equal(options.region, "eu-west-3");
  equal(options.forcePathStyle, true);
  // ferry's own name wins; the row's endpoint wins over both.
  const ferryFirst = s3OptionsFor(
    "my..bucket-1.",
    null,
    reader({ ...vars, FERRY_S3_ENDPOINT_MY__BUCKET_1_: "http://ferry:1" }),
  );
  equal(ferryFirst.endpoint, "http://ferry:1");
  equal(s3OptionsFor("my..bucket-1.", "http://row:2", reader(vars)).endpoint, "http://row:2");
  // Another bucket: the AWS variables; stacpkg's DEFAULT_REGION comes after AWS_REGION.
  const other = s3OptionsFor(
    "other",
    null,
    reader({ ...vars, STACPKG_S3_DEFAULT_REGION_OTHER: "ap-south-1" }),
  );
  equal(other.credentials?.accessKeyId, "AKGLOBAL");
  equal(other.region, "us-west-2");
  equal(
    s3OptionsFor("other", null, reader({ STACPKG_S3_DEFAULT_REGION_OTHER: "ap-south-1" })).region,
    "ap-south-1",
  );
});

Deno.test("s3OptionsFor() takes STACPKG_S3_ENDPOINTS_JSON, AWS_ENDPOINT and AWS_SKIP_SIGNATURE", () => {
  const json = reader({
    STACPKG_S3_ENDPOINTS_JSON: '{"a": "http://a:9000", "b": null}',
    AWS_ENDPOINT: "fallback.example",
  });
  equal(s3OptionsFor("a", null, json).endpoint, "http://a:9000");
  equal(s3OptionsFor("b", null, json).endpoint, "https://fallback.example");
  equal(
    s3OptionsFor("a", null, reader({ STACPKG_S3_ENDPOINT_A: "http://per:1", AWS_ENDPOINT: "x" }))
      .endpoint,
    "http://per:1",
  );
  equal(
    s3OptionsFor("a", null, reader({ AWS_ENDPOINT_URL: "http://u:1", AWS_ENDPOINT: "http://e:1" }))
      .endpoint,
    "http://u:1",
  );
  equal(s3OptionsFor("a", null, reader({ AWS_SKIP_SIGNATURE: "true" })).anonymous, true);
  equal(s3OptionsFor("a", null, reader({ AWS_SKIP_SIGNATURE: "false" })).anonymous, false);
  equal(s3OptionsFor("a", null, reader({})).anonymous, false);
});

Deno.test("s3OptionsFor() fails clearly on half a stacpkg key pair and on a bad STACPKG_S3_ENDPOINTS_JSON", () => {
  throws(
    () => s3OptionsFor("b-1", null, reader({ STACPKG_S3_ACCESS_KEY_ID_B_1: "AK" })),
    /^TypeError: Incomplete S3 credentials for bucket "b-1": set both STACPKG_S3_ACCESS_KEY_ID_B_1 and STACPKG_S3_SECRET_ACCESS_KEY_B_1$/,
  );
  for (const bad of ["not json", "[1]", '"x"']) {
    throws(
      () => s3OptionsFor("b", null, reader({ STACPKG_S3_ENDPOINTS_JSON: bad })),
      /^TypeError: Invalid STACPKG_S3_ENDPOINTS_JSON: expected a JSON object of bucket endpoints/,
    );
  }
  throws(
    () => s3OptionsFor("b", null, reader({ STACPKG_S3_ENDPOINTS_JSON: '{"b": 7}' })),
    /Invalid STACPKG_S3_ENDPOINTS_JSON: the endpoint of bucket "b" is not a non-empty string/,
  );
});

const live = liveEnv(
  ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"] as const,
  "the S3 test server (Swift s3api)",
);

Deno.test({
  name: "openLocation() reaches the live S3 server with only stacpkg's variables set",
  ignore: live === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const bucket = uniqueName("ferry-stacpkg-env");
    const suffix = stacpkgBucketEnvSuffix(bucket);
    const perBucket = reader({
      [`STACPKG_S3_ENDPOINT_${suffix}`]: live!.S3_ENDPOINT,
      [`STACPKG_S3_ACCESS_KEY_ID_${suffix}`]: live!.S3_ACCESS_KEY_ID,
      [`STACPKG_S3_SECRET_ACCESS_KEY_${suffix}`]: live!.S3_SECRET_ACCESS_KEY,
      [`STACPKG_S3_REGION_${suffix}`]: live!.S3_REGION,
    });
    const written = openLocation(`s3://${bucket}/a/b.txt`, { env: perBucket });
    await putBytes(written.store, written.key, new TextEncoder().encode("via stacpkg env"));

    const byJson = reader({
      STACPKG_S3_ENDPOINTS_JSON: JSON.stringify({ [bucket]: live!.S3_ENDPOINT }),
      AWS_ACCESS_KEY_ID: live!.S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: live!.S3_SECRET_ACCESS_KEY,
    });
    const read = openLocation(`s3://${bucket}/a/b.txt`, { env: byJson });
    equal(new TextDecoder().decode(await getBytes(read.store, read.key)), "via stacpkg env");

    const byAwsEndpoint = reader({
      AWS_ENDPOINT: live!.S3_ENDPOINT,
      AWS_ACCESS_KEY_ID: live!.S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: live!.S3_SECRET_ACCESS_KEY,
    });
    const viaAws = openLocation(`s3://${bucket}/a/b.txt`, { env: byAwsEndpoint });
    equal((await viaAws.store.head(viaAws.key)).size, 15);

    // AWS_SKIP_SIGNATURE turns signing off: s3api refuses unsigned requests.
    const unsigned = openLocation(`s3://${bucket}/a/b.txt`, {
      env: reader({
        ...Object.fromEntries(
          ["AWS_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].map((
            n,
          ) => [n, byAwsEndpoint(n)!]),
        ),
        AWS_SKIP_SIGNATURE: "1",
      }),
      retry: { maxAttempts: 1 },
    });
    await rejects(unsigned.store.head(unsigned.key), (error: Error) => {
      ok(!/testing|secret/i.test(error.message), error.message);
      return true;
    });
    await written.store.delete(written.key);
  },
});

Deno.test("ferry store stat with half a stacpkg key pair or a bad STACPKG_S3_ENDPOINTS_JSON is a one-line error", async () => {
  const { runCli } = await import("../../tests/_cli.ts");
  const { clearStoreCache } = await import("./registry.ts");
  for (
    const [name, value, pattern] of [
      [
        "STACPKG_S3_ACCESS_KEY_ID_HALF_PAIR",
        "AK",
        /Incomplete S3 credentials for bucket "half-pair"/,
      ],
      ["STACPKG_S3_ENDPOINTS_JSON", "{not json", /Invalid STACPKG_S3_ENDPOINTS_JSON/],
    ] as const
  ) {
    Deno.env.set(name, value);
    clearStoreCache();
    try {
      const r = await runCli(["store", "stat", "s3://half-pair/k"]);
      equal(r.code, 2, r.stderr);
      equal(r.stdout, "");
      equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      ok(pattern.test(r.stderr), r.stderr);
    } finally {
      Deno.env.delete(name);
      clearStoreCache();
    }
  }
});
