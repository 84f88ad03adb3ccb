import { deepEqual, equal } from "node:assert/strict";
import { runCli } from "./_cli.ts";

Deno.test("ferry asset-lock validate on a package's lock resolves packaged assets against the package", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-package-validate-" });
  try {
    const demo = await runCli(["demo", `${dir}/pkg`]);
    equal(demo.code, 0, demo.stderr);
    const ok = await runCli(["asset-lock", "validate", `${dir}/pkg/assets.lock.parquet`, "--deep"]);
    equal(ok.code, 0, ok.stdout + ok.stderr);
    const rows = ok.stdout.trim().split("\n").map((l) => JSON.parse(l));
    equal(rows.length, 6);
    // stacpkg's fields, sorted as its json.dumps(result, sort_keys=True) prints them.
    deepEqual(Object.keys(rows[0]), [
      "asset_key",
      "errors",
      "item_id",
      "key",
      "store_container",
      "store_type",
      "valid",
    ]);

    const csv = `${dir}/pkg/assets/scene-2/data.csv`;
    const bytes = await Deno.readFile(csv);
    bytes[0] = bytes[0]! ^ 1;
    await Deno.writeFile(csv, bytes);
    const bad = await runCli([
      "asset-lock",
      "validate",
      `${dir}/pkg/assets.lock.parquet`,
      "--deep",
    ]);
    equal(bad.code, 1);
    const invalid = bad.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => !r.valid);
    equal(invalid.length, 1);
    equal(invalid[0].item_id, "scene-2");
    equal(invalid[0].errors.length, 1);
    equal(invalid[0].errors[0].startsWith("checksum mismatch: expected 1220"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
