/**
 * Manifest exchange on every store: the shared cases (tests/exchange_cases.ts)
 * on files, on S3 (Swift's s3api) and on native Swift, and a manifest written
 * over S3 read over native Swift from the same container.
 */
import { deepEqual, equal } from "node:assert/strict";
import { liveEnv, uniqueName } from "./_live.ts";
import { runCli } from "./_cli.ts";
import { runExchangeCases } from "./exchange_cases.ts";
import { clearStoreCache } from "../lib/stores/mod.ts";
import { bucketEnvSuffix } from "../lib/stores/registry.ts";

const dir = await Deno.makeTempDir({ prefix: "ferry-exchange-" });
let n = 0;
runExchangeCases({
  name: "exchange on files",
  base: () => `${dir}/case-${n++}`,
  rootUpdate: "cas",
  cleanup: () => Deno.remove(dir, { recursive: true }),
});

const s3 = liveEnv(
  ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const,
  "the S3 test server (Swift s3api)",
);
const swift = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"] as const, "the Swift test server");
const bucket = uniqueName("ferry-exchange");
if (s3) {
  Deno.env.set(`FERRY_S3_ENDPOINT_${bucketEnvSuffix(bucket)}`, s3.S3_ENDPOINT);
  Deno.env.set("AWS_ACCESS_KEY_ID", s3.S3_ACCESS_KEY_ID);
  Deno.env.set("AWS_SECRET_ACCESS_KEY", s3.S3_SECRET_ACCESS_KEY);
  Deno.env.set("AWS_REGION", Deno.env.get("S3_REGION") ?? "us-east-1");
  clearStoreCache();
}
runExchangeCases({
  name: "exchange on S3 (s3api)",
  base: () => `s3://${bucket}/case-${n++}`,
  rootUpdate: "lock",
  ignore: !s3,
  cleanup: async () => void await runCli(["store", "rm", `s3://${bucket}/`, "--prefix"]),
});
const container = uniqueName("ferry-exchange-swift");
runExchangeCases({
  name: "exchange on Swift",
  base: () => `swift://${container}/case-${n++}`,
  rootUpdate: "lock",
  ignore: !swift,
  cleanup: async () => void await runCli(["store", "rm", `swift://${container}/`, "--prefix"]),
});

Deno.test({
  name: "exchange: a manifest written over S3 is read over native Swift from the same container",
  ignore: !s3 || !swift,
  async fn() {
    const source = await Deno.makeTempFile();
    await Deno.writeTextFile(source, "cross-protocol bytes");
    const sources = JSON.stringify({ source, member_path: "x/cross.txt" }) + "\n";
    const shard = await runCli([
      "shard",
      "create",
      "--manifest",
      `s3://${bucket}/cross/manifest.jsonl`,
      "--prefix",
      `s3://${bucket}/cross/shards`,
    ], sources);
    equal(shard.code, 0, shard.stderr);
    const over = await runCli(["manifest", "cat", `s3://${bucket}/cross/manifest.jsonl`]);
    const viaSwift = await runCli(["manifest", "cat", `swift://${bucket}/cross/manifest.jsonl`]);
    equal(viaSwift.code, 0, viaSwift.stderr);
    equal(viaSwift.stdout, over.stdout);
    const out = await Deno.makeTempDir();
    const get = await runCli([
      "manifest",
      "get",
      `swift://${bucket}/cross/manifest.jsonl`,
      "--output-dir",
      out,
    ]);
    equal(get.code, 0, get.stderr);
    deepEqual(await Deno.readTextFile(`${out}/x/cross.txt`), "cross-protocol bytes");
    await Deno.remove(out, { recursive: true });
    await Deno.remove(source);
  },
});
