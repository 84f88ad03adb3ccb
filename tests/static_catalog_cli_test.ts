import { deepEqual, equal } from "node:assert/strict";
import { readLockParquetRows } from "../lib/lock/mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Runs a shell pipeline of `ferry` commands in `cwd`. */
async function pipeline(script: string, cwd: string) {
  const ferry = 'ferry() { "$DENO" run -A --no-prompt --config "$CONFIG" "$CLI" "$@"; }';
  const output = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", `${ferry}\n${script}`],
    cwd,
    env: { DENO: Deno.execPath(), CONFIG, CLI, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("ferry build: relative asset hrefs of a static catalog resolve against the item's self link, not the cwd", async () => {
  const root = await Deno.makeTempDir({ prefix: "ferry-static-" });
  try {
    const items = `${root}/catalog/items/x`;
    await Deno.mkdir(items, { recursive: true });
    await Deno.mkdir(`${root}/catalog/shared`);
    await Deno.writeFile(`${items}/B04.tif`, new Uint8Array(5));
    await Deno.writeFile(`${root}/catalog/shared/thumb.png`, new Uint8Array(7));
    await Deno.writeFile(`${root}/abs.bin`, new Uint8Array(11));
    // The cwd holds decoys of the same relative names with other sizes.
    const cwd = `${root}/elsewhere`;
    await Deno.mkdir(`${cwd}/shared`, { recursive: true });
    await Deno.writeFile(`${cwd}/B04.tif`, new Uint8Array(1));
    const item = {
      type: "Feature",
      stac_version: "1.0.0",
      id: "x",
      geometry: null,
      properties: { datetime: "2024-01-01T00:00:00Z" },
      links: [
        { rel: "root", href: "../../catalog.json", type: "application/json" },
        { rel: "self", href: `${items}/x.json`, type: "application/json" },
      ],
      assets: {
        B04: { href: "./B04.tif", title: "Red" },
        thumbnail: { href: "../../shared/thumb.png" },
        abs: { href: `${root}/abs.bin` },
      },
    };
    await Deno.writeTextFile(`${items}/x.json`, JSON.stringify(item));
    const built = await pipeline(
      `ferry items from-json '${items}/x.json' | ferry build '${root}/pkg'`,
      cwd,
    );
    equal(built.code, 0, built.stderr);
    deepEqual(
      (await readLockParquetRows(`${root}/pkg/assets.lock.parquet`)).map((r) => [
        r.asset_key,
        r.store_type,
        r.key,
        r.size_bytes,
      ]),
      [
        ["B04", "file", `${items}/B04.tif`, 5],
        ["thumbnail", "file", `${root}/catalog/shared/thumb.png`, 7],
        ["abs", "file", `${root}/abs.bin`, 11],
      ],
    );
    const derived = await pipeline(
      `ferry items from-json '${items}/x.json' | ferry asset-lock derive | ferry asset-lock to-ndjson`,
      cwd,
    );
    equal(derived.code, 0, derived.stderr);
    deepEqual(
      derived.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((r) => [r.key, r.size_bytes]),
      [[`${items}/B04.tif`, 5], [`${root}/catalog/shared/thumb.png`, 7], [`${root}/abs.bin`, 11]],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
