/**
 * Interoperability of ferry's S3 driver with the AWS CLI (`/usr/bin/aws`, v2)
 * against Swift s3api: objects each side writes (multipart) read back
 * byte-identically through the other.
 */
import { equal, match, ok } from "node:assert/strict";
import { DeleteBucketCommand } from "@aws-sdk/client-s3";
import { s3ClientOf, S3Store } from "../lib/stores/s3/mod.ts";
import { liveEnv, liveS3, uniqueName } from "./_live.ts";
import { patternStream, sha256Of } from "./store_conformance.ts";

const AWS = "/usr/bin/aws";
const MiB = 1024 * 1024;
const env = liveEnv(
  ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"] as const,
  "Swift s3api",
);
const haveCli = await Deno.stat(AWS).then(() => true, () => false);

if (env) {
  const bucket = uniqueName("ferry-aws");
  const store = new S3Store({
    ...liveS3(bucket)!,
    partSizeBytes: 5 * MiB,
  });
  const size = 20 * MiB;

  const aws = async (...args: string[]) => {
    const out = await new Deno.Command(AWS, {
      args: [...args, "--endpoint-url", env.S3_ENDPOINT, "--only-show-errors"],
      env: {
        AWS_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION: env.S3_REGION,
        AWS_REQUEST_CHECKSUM_CALCULATION: "when_required",
        AWS_RESPONSE_CHECKSUM_VALIDATION: "when_required",
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_PAGER: "",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    ok(out.success, `aws ${args.join(" ")} failed: ${stderr}`);
  };

  // Under CI a missing CLI fails the tests instead of skipping them.
  const ignore = !haveCli && Deno.env.get("CI") !== "true";
  const reason = haveCli ? "" : ` (skipped: ${AWS} is not installed)`;

  Deno.test({
    name: `aws cli: an object written with aws s3 cp reads identically through S3Store${reason}`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "ferry-aws-" });
      try {
        const file = `${dir}/up.bin`;
        await patternStream(size, 11).pipeTo((await Deno.create(file)).writable);
        await putEmpty(store, "marker"); // creates the bucket
        await aws("s3", "cp", file, `s3://${bucket}/from aws/obj.bin`);
        const meta = await store.head("from aws/obj.bin");
        equal(meta.size, size);
        match(meta.etag ?? "", /^[0-9a-f]{32}-\d+$/, "the CLI uploaded multipart");
        const expected = await sha256Of(patternStream(size, 11));
        equal((await sha256Of(await store.get("from aws/obj.bin")))[0], expected[0]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name:
      `aws cli: an object S3Store writes multipart downloads identically with aws s3 cp${reason}`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "ferry-aws-" });
      try {
        const put = await store.put("from ferry/obj.bin", patternStream(size, 12));
        match(put.etag ?? "", /^[0-9a-f]{32}-4$/);
        const file = `${dir}/down.bin`;
        await aws("s3", "cp", `s3://${bucket}/from ferry/obj.bin`, file);
        const downloaded = await sha256Of((await Deno.open(file)).readable);
        const expected = await sha256Of(patternStream(size, 12));
        equal(downloaded[0], expected[0]);
        equal(downloaded[1], size);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name: "aws cli: cleanup",
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const keys: string[] = [];
      for await (const e of store.list("")) if (e.kind === "object") keys.push(e.key);
      equal((await store.deleteMany(keys)).length, 0);
      await s3ClientOf(store).send(new DeleteBucketCommand({ Bucket: bucket }));
    },
  });
}

async function putEmpty(store: S3Store, key: string): Promise<void> {
  await store.put(key, new ReadableStream({ start: (c) => c.close() }), { size: 0 });
}
