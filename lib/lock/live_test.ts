import { deepEqual, equal, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { liveEnv, uniqueName } from "../../tests/_live.ts";
import { openLocation, putBytes } from "../stores/mod.ts";
import { deriveLock, type LockRow } from "./mod.ts";
import { validateLock, type ValidateOptions } from "./validate.ts";

const validateRows = async (rows: LockRow[], options: ValidateOptions = {}) =>
  (await validateLock([rows], options)).results;

const sha = (bytes: Uint8Array) => "1220" + createHash("sha256").update(bytes).digest("hex");
const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");

const objects = {
  "a/one.bin": new Uint8Array(1000).map((_, i) => i % 256),
  "b/two words.txt": new TextEncoder().encode("two words, one object"),
  "c/empty": new Uint8Array(),
};

async function deriveFor(
  scheme: "swift" | "s3",
  container: string,
  env?: (name: string) => string | undefined,
): Promise<LockRow[]> {
  const open = env ? { env } : undefined;
  for (const [key, bytes] of Object.entries(objects)) {
    const { store } = openLocation(`${scheme}://${container}/${key}`, open);
    await putBytes(store, key, bytes);
  }
  const items = [[
    {
      id: "item-a",
      assets: {
        one: { href: `${scheme}://${container}/a/one.bin` },
        two: { href: `${scheme}://${container}/b/two words.txt` },
      },
    },
    { id: "item-b", assets: { empty: { href: `${scheme}://${container}/c/empty` } } },
  ]];
  const rows: LockRow[] = [];
  for await (const batch of deriveLock(items, { checksum: "sha256", maxWorkers: 2, open })) {
    rows.push(...batch);
  }
  return rows;
}

function expectFacts(rows: LockRow[], container: string) {
  const expected = Object.values(objects);
  deepEqual(rows.map((r) => [r.store_container, r.key]), [
    [container, "a/one.bin"],
    [container, "b/two words.txt"],
    [container, "c/empty"],
  ]);
  deepEqual(rows.map((r) => r.size_bytes), expected.map((b) => b.length));
  deepEqual(rows.map((r) => r.etag), expected.map(md5));
  deepEqual(rows.map((r) => r.checksum), expected.map(sha));
  for (const r of rows) ok(r.last_modified && !Number.isNaN(Date.parse(r.last_modified)));
}

const swift = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"], "Swift");
Deno.test({
  name: "swift: deriveLock() probes size, etag, last-modified and sha256",
  ignore: !swift,
  async fn() {
    const container = uniqueName("ferry-lock");
    const rows = await deriveFor("swift", container);
    expectFacts(rows, container);
    const checks = await validateRows(rows, { deep: true });
    ok(checks.every((c) => c.valid), JSON.stringify(checks));
    const { store } = openLocation(`swift://${container}/x`);
    await putBytes(store, "a/one.bin", new Uint8Array(1001));
    const [changed] = await validateRows(rows.slice(0, 1));
    equal(changed!.valid, false);
    ok(
      changed!.errors.includes("size mismatch: expected 1000, actual 1001"),
      changed!.errors.join(),
    );
  },
});

const s3 = liveEnv(["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"], "S3 (Swift s3api)");
Deno.test({
  name: "s3: deriveLock() probes size, etag, last-modified and sha256",
  ignore: !s3,
  async fn() {
    const env = (name: string) =>
      ({
        AWS_ENDPOINT_URL: s3!.S3_ENDPOINT,
        AWS_ACCESS_KEY_ID: s3!.S3_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: s3!.S3_SECRET_ACCESS_KEY,
        AWS_REGION: Deno.env.get("S3_REGION") ?? "us-east-1",
      } as Record<string, string>)[name];
    const bucket = uniqueName("ferry-lock-s3");
    const rows = await deriveFor("s3", bucket, env);
    expectFacts(rows, bucket);
    const checks = await validateRows(rows, { deep: true, open: { env } });
    ok(checks.every((c) => c.valid), JSON.stringify(checks));
  },
});
