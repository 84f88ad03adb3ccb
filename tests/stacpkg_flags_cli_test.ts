/**
 * stacpkg's flags and spellings on ferry's commands: `--item-ids` and
 * `--providers` on `build` and `asset-lock derive`, `asset-lock from-parquet
 * --batch-size`, `inspect --format md`, `--key`/`--name`, the default
 * `alternate:name`; and locks that do not depend on the working directory.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { failedOnce, itemsOf, runCliBytes, withTempDir } from "./_cli.ts";
import {
  type LockRow,
  lockRowsFromIpc,
  readLockParquetRows,
  writeLockParquetFile,
} from "../lib/lock/mod.ts";
import { streamOf } from "../lib/stores/ext.ts";
import { resolvePosix } from "../lib/stores/location.ts";

const ferry = runCliBytes;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

async function ipcRows(bytes: Uint8Array): Promise<LockRow[][]> {
  return await Array.fromAsync(lockRowsFromIpc(streamOf(bytes)));
}

/** Items whose providers are named in each of the ways stacpkg reads. */
async function providerItems(dir: string): Promise<Uint8Array> {
  const properties: Record<string, Record<string, unknown>> = {
    esri: { providers: [{ name: "Esri", roles: ["host"] }] },
    plain: { providers: ["Maxar"] },
    usgs: { provider: "USGS" },
    oam: { "oam:producer_name": "OpenAerialMap" },
    none: {},
  };
  const lines = Object.entries(properties).map(([id, props]) =>
    JSON.stringify({
      type: "Feature",
      stac_version: "1.1.0",
      id,
      geometry: null,
      properties: { datetime: "2024-01-01T00:00:00Z", ...props },
      links: [],
      assets: { data: { href: `${dir}/${id}.tif` }, thumb: { href: `${dir}/${id}.png` } },
    })
  );
  for (const id of Object.keys(properties)) {
    await Deno.writeFile(`${dir}/${id}.tif`, new Uint8Array(3));
    await Deno.writeFile(`${dir}/${id}.png`, new Uint8Array(2));
  }
  await Deno.writeTextFile(`${dir}/items.ndjson`, lines.join("\n") + "\n");
  const items = await ferry(["items", "from-ndjson", `${dir}/items.ndjson`]);
  equal(items.code, 0, items.stderr);
  return items.stdout;
}

Deno.test("build and asset-lock derive --item-ids/--providers select items as stacpkg does", async () => {
  await withTempDir(async (dir) => {
    const items = await providerItems(dir);
    const derivedIds = async (flags: string[]) => {
      const r = await ferry(["asset-lock", "derive", "--no-probe-metadata", ...flags], items);
      equal(r.code, 0, r.stderr);
      return [...new Set((await ipcRows(r.stdout)).flat().map((row) => row.item_id))];
    };
    deepEqual(await derivedIds(["--providers", "Esri"]), ["esri"]);
    deepEqual(await derivedIds(["--providers", "Maxar", "--providers", "USGS"]), ["plain", "usgs"]);
    deepEqual(await derivedIds(["--providers", "OpenAerialMap"]), ["oam"]);
    deepEqual(await derivedIds(["--item-ids", "none", "--item-ids", "esri"]), ["esri", "none"]);
    deepEqual(await derivedIds(["--item-ids", "esri", "--providers", "USGS"]), []);
    deepEqual(await derivedIds(["--providers", "Nobody"]), []);

    // build: both files hold the selected items only, whether it derives the lock or is given one.
    const built = await ferry([
      "build",
      `${dir}/pkg`,
      "--providers",
      "OpenAerialMap",
      "--providers",
      "Esri",
    ], items);
    equal(built.code, 0, built.stderr);
    deepEqual(JSON.parse(built.text).items, 2);
    deepEqual((await readLockParquetRows(`${dir}/pkg/assets.lock.parquet`)).map((r) => r.item_id), [
      "esri",
      "esri",
      "oam",
      "oam",
    ]);
    const back = await itemsOf(await ferry(["items", "from-parquet", `${dir}/pkg/items.parquet`]));
    deepEqual(back.map((i) => i.id), ["esri", "oam"]);
    equal(back[1]!.properties["oam:producer_name"], "OpenAerialMap");

    const all = await ferry(["asset-lock", "derive", "--no-probe-metadata"], items);
    await ferry(["asset-lock", "to-parquet", `${dir}/all.parquet`], all.stdout);
    const given = await ferry([
      "build",
      `${dir}/pkg2`,
      "--asset-lock",
      `${dir}/all.parquet`,
      "--item-ids",
      "usgs",
    ], items);
    equal(given.code, 0, given.stderr);
    deepEqual(JSON.parse(given.text).items, 1);
    deepEqual(
      (await readLockParquetRows(`${dir}/pkg2/assets.lock.parquet`)).map((r) => r.item_id),
      ["usgs", "usgs"],
    );

    failedOnce(
      await ferry(["asset-lock", "derive", "--providers"], items),
      /Flag "--providers" needs a value$/,
    );
    failedOnce(
      await ferry(["build", `${dir}/pkg3`, "--item-ids"], items),
      /Flag "--item-ids" needs a value$/,
    );
    await Deno.stat(`${dir}/pkg3`).then(() => ok(false, "package written"), () => {});
  });
});

Deno.test("asset-lock from-parquet --batch-size re-batches rows across row groups", async () => {
  await withTempDir(async (dir) => {
    const rows: LockRow[] = Array.from({ length: 7 }, (_, i) => ({
      item_id: `i${i}`,
      asset_key: "data",
      store_type: "file",
      store_container: null,
      store_endpoint_url: null,
      key: `/x/${i}.tif`,
      size_bytes: i,
      etag: null,
      last_modified: null,
      checksum: null,
    }));
    await writeLockParquetFile([rows], `${dir}/lock.parquet`, { rowGroupSize: 4 });
    const whole = await ferry(["asset-lock", "from-parquet", `${dir}/lock.parquet`]);
    deepEqual((await ipcRows(whole.stdout)).map((b) => b.length), [4, 3]);
    const three = await ferry([
      "asset-lock",
      "from-parquet",
      `${dir}/lock.parquet`,
      "--batch-size",
      "3",
    ]);
    equal(three.code, 0, three.stderr);
    const batches = await ipcRows(three.stdout);
    deepEqual(batches.map((b) => b.length), [3, 3, 1]);
    deepEqual(batches.flat(), rows);
    const big = await ferry([
      "asset-lock",
      "from-parquet",
      `${dir}/lock.parquet`,
      "--batch-size",
      "100",
    ]);
    deepEqual((await ipcRows(big.stdout)).map((b) => b.length), [7]);
    for (const bad of ["0", "-1", "1.5", "x"]) {
      failedOnce(
        await ferry(["asset-lock", "from-parquet", `${dir}/lock.parquet`, "--batch-size", bad]),
        new RegExp(
          `Invalid --batch-size "${bad.replace(".", "\\.")}": expected a positive integer$`,
        ),
      );
    }
  });
});

Deno.test("inspect --format md is --format markdown; --key/--name and the default alternate:name", async () => {
  await withTempDir(async (dir) => {
    const items = await providerItems(dir);
    equal((await ferry(["build", `${dir}/pkg`, "--no-probe-metadata"], items)).code, 0);
    const md = await ferry(["inspect", `${dir}/pkg`, "--format", "md"]);
    equal(md.code, 0, md.stderr);
    equal(md.text, (await ferry(["inspect", `${dir}/pkg`, "--format", "markdown"])).text);
    match(md.text, /^# /m);
    failedOnce(await ferry(["inspect", `${dir}/pkg`, "--format", "mdx"]), /Invalid format "mdx"/);

    const lock = `${dir}/pkg/assets.lock.parquet`;
    const named = await itemsOf(
      await ferry([
        "items",
        "add-alternate",
        "--asset-lock",
        lock,
        "--key",
        "local",
        "--name",
        "Local copy",
      ], items),
    );
    equal(
      (named[0]!.assets.data!.alternate as Record<string, Record<string, unknown>>)
        .local!["alternate:name"],
      "Local copy",
    );
    const unnamed = await itemsOf(
      await ferry(["items", "add-alternate", "--asset-lock", lock, "--key", "local"], items),
    );
    equal(
      (unnamed[0]!.assets.data!.alternate as Record<string, Record<string, unknown>>)
        .local!["alternate:name"],
      "local",
    );
    const enriched = await itemsOf(
      await ferry(["items", "enrich", "--asset-lock", lock, "--key", "local"], items),
    );
    ok((enriched[0]!.assets.data!.alternate as Record<string, unknown>).local);
    failedOnce(
      await ferry(
        ["items", "add-alternate", "--asset-lock", lock, "--key", "local", "--name", ""],
        items,
      ),
      /Invalid --alternate-name: it is empty$/,
    );
  });
});

/** Runs a shell script with a `ferry` function, in `cwd`. */
async function shell(script: string, cwd: string) {
  const ferryFn = 'ferry() { "$DENO" run -A --no-prompt --config "$CONFIG" "$CLI" "$@"; }';
  const out = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-e", "-c", `${ferryFn}\n${script}`],
    cwd,
    env: { DENO: Deno.execPath(), CONFIG, CLI, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("a lock derived from relative hrefs holds absolute paths; validate ignores an unrelated items.parquet beside it", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/work/data`, { recursive: true });
    await Deno.mkdir(`${dir}/elsewhere`);
    await Deno.writeFile(`${dir}/work/data/a.tif`, new Uint8Array(5));
    await Deno.writeTextFile(
      `${dir}/work/items.ndjson`,
      JSON.stringify({
        type: "Feature",
        stac_version: "1.1.0",
        id: "a",
        geometry: null,
        properties: { datetime: "2024-01-01T00:00:00Z" },
        links: [],
        assets: { data: { href: "data/a.tif" }, thumb: { href: "./data/../data/a.tif" } },
      }) + "\n",
    );
    // The lock and an items.parquet side by side in out/, as a user keeps them.
    const made = await shell(
      [
        "mkdir -p out",
        "ferry items from-ndjson items.ndjson | ferry asset-lock derive | ferry asset-lock to-parquet out/lock.parquet > /dev/null",
        "ferry items from-ndjson items.ndjson | ferry items to-parquet out/items.parquet > /dev/null",
      ].join("\n"),
      `${dir}/work`,
    );
    equal(made.code, 0, made.stderr);
    deepEqual((await readLockParquetRows(`${dir}/work/out/lock.parquet`)).map((r) => r.key), [
      `${dir}/work/data/a.tif`,
      `${dir}/work/data/a.tif`,
    ]);
    const checked = await shell(
      `ferry asset-lock validate '${dir}/work/out/lock.parquet'`,
      `${dir}/elsewhere`,
    );
    equal(checked.code, 0, checked.stdout + checked.stderr);
    ok(checked.stdout.trim().split("\n").every((l) => JSON.parse(l).valid), checked.stdout);

    // A hand-written lock with a key relative to the working directory, named
    // lock.parquet beside an items.parquet: relative to the working directory.
    const relative = `data/a.tif`;
    await writeLockParquetFile([[{
      item_id: "a",
      asset_key: "data",
      store_type: "file",
      store_container: null,
      store_endpoint_url: null,
      key: relative,
      size_bytes: 5,
      etag: null,
      last_modified: null,
      checksum: null,
    }]], `${dir}/work/out/relative.parquet`);
    const fromWork = await shell(`ferry asset-lock validate out/relative.parquet`, `${dir}/work`);
    equal(fromWork.code, 0, fromWork.stdout + fromWork.stderr);
    equal(JSON.parse(fromWork.stdout).valid, true);

    // A package's own lock still resolves its packaged assets against the package.
    const packaged = await shell(
      `ferry items from-ndjson items.ndjson | ferry build '${dir}/pkg' --include-assets > /dev/null`,
      `${dir}/work`,
    );
    equal(packaged.code, 0, packaged.stderr);
    deepEqual((await readLockParquetRows(`${dir}/pkg/assets.lock.parquet`)).map((r) => r.key), [
      "assets/a/data.tif",
      "assets/a/thumb.tif",
    ]);
    const pkgChecked = await shell(
      `ferry asset-lock validate '${dir}/pkg/assets.lock.parquet' --deep`,
      `${dir}/elsewhere`,
    );
    equal(pkgChecked.code, 0, pkgChecked.stdout + pkgChecked.stderr);
  });
});

Deno.test("asset-lock derive in process resolves a relative href against the working directory", async () => {
  const item = JSON.stringify({
    type: "Feature",
    stac_version: "1.1.0",
    id: "r",
    geometry: null,
    properties: { datetime: "2024-01-01T00:00:00Z" },
    links: [],
    assets: { data: { href: "some/dir/../x.tif" } },
  });
  const items = await ferry(["items", "from-ndjson"], new TextEncoder().encode(item + "\n"));
  const derived = await ferry(["asset-lock", "derive", "--no-probe-metadata"], items.stdout);
  equal(derived.code, 0, derived.stderr);
  deepEqual((await ipcRows(derived.stdout)).flat().map((r) => r.key), [
    resolvePosix(Deno.cwd(), "some/x.tif"),
  ]);
});
