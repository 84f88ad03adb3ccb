import { deepEqual, equal, match, ok } from "node:assert/strict";
import { type CliBytesResult, runCliBytes } from "./_cli.ts";
import { createHash } from "node:crypto";
import { duck } from "./_duckdb.ts";
import { type LockRow, readLockParquetRows, writeLockParquetFile } from "../lib/lock/mod.ts";
import { validateLock, type ValidateOptions } from "../lib/lock/validate.ts";

const validateRows = async (rows: LockRow[], options: ValidateOptions = {}) =>
  (await validateLock([rows], options)).results;

const ferry = runCliBytes;

/** Runs `ferry a | ferry b | …`, each stage's stdout the next one's stdin. */
async function pipe(...stages: string[][]): Promise<CliBytesResult> {
  let input: Uint8Array = new Uint8Array();
  let last: CliBytesResult | undefined;
  for (const stage of stages) {
    last = await ferry(stage, input);
    if (last.code !== 0) {
      throw new Error(`ferry ${stage.join(" ")} exited ${last.code}: ${last.stderr}`);
    }
    input = last.stdout;
  }
  return last!;
}

const sha = (bytes: Uint8Array) => "1220" + createHash("sha256").update(bytes).digest("hex");

/** A folder with two items whose three assets are local files (one under a relative path). */
async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "ferry-pkg-" });
  await Deno.mkdir(`${dir}/data`);
  const files = {
    a: new TextEncoder().encode("alpha bytes"),
    b: new Uint8Array(70_000).map((_, i) => (i * 31) % 256),
    t: new TextEncoder().encode("thumb"),
  };
  await Deno.writeFile(`${dir}/data/a.tif`, files.a);
  await Deno.writeFile(`${dir}/data/b.tif`, files.b);
  await Deno.writeFile(`${dir}/data/t.png`, files.t);
  const item = (id: string, assets: Record<string, unknown>) => ({
    type: "Feature",
    stac_version: "1.1.0",
    id,
    collection: "demo",
    geometry: { type: "Point", coordinates: [16.3, 48.2] },
    bbox: [16.3, 48.2, 16.3, 48.2],
    properties: { datetime: "2024-05-01T00:00:00Z" },
    links: [],
    assets,
  });
  const items = {
    type: "FeatureCollection",
    features: [
      item("one", {
        data: { href: `${dir}/data/a.tif`, roles: ["data"] },
        thumbnail: { href: `file://${dir}/data/t.png`, roles: ["thumbnail"] },
        metadata: { href: `${dir}/data/missing.xml` },
      }),
      item("two", { data: { href: `${dir}/data/b.tif` } }),
    ],
  };
  await Deno.writeTextFile(`${dir}/items.json`, JSON.stringify(items));
  return { dir, files, itemsJson: `${dir}/items.json` };
}

async function itemsIpc(itemsJson: string): Promise<Uint8Array> {
  return (await pipe(["items", "from-json", itemsJson])).stdout;
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("ferry asset-lock derive | to-parquet | from-parquet | to-ndjson keeps every fact", async () => {
  const { dir, files, itemsJson } = await fixture();
  const ipc = await itemsIpc(itemsJson);
  const derived = await ferry(["asset-lock", "derive", "--checksum", "sha256"], ipc);
  equal(derived.code, 0, derived.stderr);
  const saved = await ferry(["asset-lock", "to-parquet", `${dir}/lock.parquet`], derived.stdout);
  equal(saved.code, 0, saved.stderr);
  deepEqual(JSON.parse(saved.text), { path: `${dir}/lock.parquet`, rows: 3 });
  const rows = (await pipe(
    ["asset-lock", "from-parquet", `${dir}/lock.parquet`],
    ["asset-lock", "to-ndjson"],
  )).text.trim().split("\n").map((l) => JSON.parse(l));
  deepEqual(
    rows.map((r) => [r.item_id, r.asset_key, r.store_type, r.key, r.size_bytes, r.checksum]),
    [
      ["one", "data", "file", `${dir}/data/a.tif`, files.a.length, sha(files.a)],
      ["one", "thumbnail", "file", `${dir}/data/t.png`, files.t.length, sha(files.t)],
      ["two", "data", "file", `${dir}/data/b.tif`, files.b.length, sha(files.b)],
    ],
  );
  for (const r of rows) ok(r.etag && r.last_modified, "probed facts are recorded");
  const keys = await pipe(
    ["items", "from-json", itemsJson],
    ["asset-lock", "derive", "--no-probe-metadata", "--asset-keys", "metadata"],
    ["asset-lock", "to-ndjson", `${dir}/lock.ndjson`],
  );
  equal(keys.text, "");
  deepEqual(
    (await Deno.readTextFile(`${dir}/lock.ndjson`)).trim().split("\n").map((l) =>
      JSON.parse(l).asset_key
    ),
    ["metadata"],
  );
});

Deno.test("ferry asset-lock from-parquet previews on a terminal", async () => {
  const { dir, itemsJson } = await fixture();
  const lock = await ferry(
    ["asset-lock", "derive", "--no-probe-metadata"],
    await itemsIpc(itemsJson),
  );
  await ferry(["asset-lock", "to-parquet", `${dir}/l.parquet`], lock.stdout);
  const shown = await ferry(["asset-lock", "from-parquet", `${dir}/l.parquet`], undefined, true);
  equal(shown.code, 0);
  match(shown.text, /^item_id\s+asset_key\s+store_type/);
  match(shown.text, /\n3 rows x 10 columns\n$/);
});

Deno.test("ferry build writes items.parquet and a probed assets.lock.parquet DuckDB reads", async () => {
  const { dir, files, itemsJson } = await fixture();
  const built = await ferry(["build", `${dir}/pkg`], await itemsIpc(itemsJson));
  equal(built.code, 0, built.stderr);
  const report = JSON.parse(built.text);
  equal(report.items, 2);
  equal(report.assets, 3);
  deepEqual(report.files.map((f: { path: string }) => f.path), [
    "assets.lock.parquet",
    "items.parquet",
  ]);
  deepEqual(await names(dir), ["data", "items.json", "pkg"], "no temporary folder is left");
  const lock = `${dir}/pkg/assets.lock.parquet`;
  const described = (await duck(`DESCRIBE SELECT * FROM '${lock}'`))
    .map((r) => `${r.column_name} ${r.column_type}`);
  deepEqual(described, [
    "item_id VARCHAR",
    "asset_key VARCHAR",
    "store_type VARCHAR",
    "store_container VARCHAR",
    "store_endpoint_url VARCHAR",
    "key VARCHAR",
    "size_bytes BIGINT",
    "etag VARCHAR",
    "last_modified VARCHAR",
    "checksum VARCHAR",
  ]);
  const sizes = await duck(
    `SELECT item_id, asset_key, size_bytes FROM '${lock}' ORDER BY item_id, asset_key`,
  );
  deepEqual(sizes, [
    { item_id: "one", asset_key: "data", size_bytes: BigInt(files.a.length) },
    { item_id: "one", asset_key: "thumbnail", size_bytes: BigInt(files.t.length) },
    { item_id: "two", asset_key: "data", size_bytes: BigInt(files.b.length) },
  ]);
  const count = await duck(`SELECT count(*) AS n FROM '${dir}/pkg/items.parquet'`);
  deepEqual(count, [{ n: 2n }]);

  const json = JSON.parse((await ferry(["inspect", `${dir}/pkg`, "--format", "json"])).text);
  deepEqual(json.items, { count: 2, collections: ["demo"] });
  deepEqual(json.assets, {
    count: 3,
    asset_keys: ["data", "thumbnail"],
    known_size_bytes: files.a.length + files.b.length + files.t.length,
    known_size_count: 3,
  });
  const lockFile = json.files.find((f: { path: string }) => f.path === "assets.lock.parquet");
  equal(lockFile.mediaType, "application/vnd.apache.parquet");
  equal(
    lockFile.digest,
    "sha256:" + createHash("sha256").update(await Deno.readFile(lock)).digest("hex"),
  );
  const yaml = (await ferry(["inspect", `${dir}/pkg`])).text;
  ok(
    yaml.startsWith(
      `package: "${dir}/pkg"\nfiles:\n  - path: "assets.lock.parquet"\n    mediaType: `,
    ),
  );
  ok(yaml.includes('\nitems:\n  count: 2\n  collections:\n    - "demo"\n'), yaml);
  const markdown = (await ferry(["inspect", `${dir}/pkg`, "--format", "markdown"])).text;
  match(markdown, /- Asset keys: data, thumbnail\n/);
  const bad = await ferry(["inspect", `${dir}/pkg`, "--format", "xml"]);
  equal(bad.code, 2);
  equal(bad.stderr, 'ferry inspect: Invalid format "xml": expected yaml, json or markdown\n');
});

Deno.test("ferry build --include-assets --checksum sha256 --includes packs bytes and extra files", async () => {
  const { dir, files, itemsJson } = await fixture();
  await Deno.mkdir(`${dir}/docs/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir}/docs/sub/notes.md`, "# notes");
  await Deno.writeTextFile(`${dir}/LICENSE.txt`, "CC-BY-4.0");
  const built = await ferry([
    "build",
    `${dir}/pkg`,
    "--include-assets",
    "--checksum",
    "sha256",
    "--includes",
    `${dir}/docs/`,
    "--includes",
    `${dir}/LICENSE.txt`,
    "--max-workers",
    "2",
  ], await itemsIpc(itemsJson));
  equal(built.code, 0, built.stderr);
  deepEqual(JSON.parse(built.text).files.map((f: { path: string }) => f.path), [
    "LICENSE.txt",
    "assets.lock.parquet",
    "assets/one/data.tif",
    "assets/one/thumbnail.png",
    "assets/two/data.tif",
    "docs/sub/notes.md",
    "items.parquet",
  ]);
  const rows = await readLockParquetRows(`${dir}/pkg/assets.lock.parquet`);
  deepEqual(rows.map((r) => [r.store_type, r.store_container, r.key, r.size_bytes, r.checksum]), [
    ["file", null, "assets/one/data.tif", files.a.length, sha(files.a)],
    ["file", null, "assets/one/thumbnail.png", files.t.length, sha(files.t)],
    ["file", null, "assets/two/data.tif", files.b.length, sha(files.b)],
  ]);
  deepEqual(await Deno.readFile(`${dir}/pkg/assets/two/data.tif`), files.b);
  const checks = await validateRows(rows, { baseDir: `${dir}/pkg`, deep: true });
  ok(checks.every((c) => c.valid), JSON.stringify(checks));
});

Deno.test("ferry build --asset-lock uses the given lock (stacpkg's, without checksum)", async () => {
  const { dir, itemsJson } = await fixture();
  await writeLockParquetFile([[{
    item_id: "one",
    asset_key: "data",
    store_type: "file",
    store_container: null,
    store_endpoint_url: null,
    key: `${dir}/data/a.tif`,
    size_bytes: 11,
    etag: "given",
    last_modified: null,
    checksum: null,
  }]], `${dir}/given.parquet`);
  const built = await ferry(
    ["build", `${dir}/pkg`, "--asset-lock", `${dir}/given.parquet`],
    await itemsIpc(itemsJson),
  );
  equal(built.code, 0, built.stderr);
  deepEqual(
    (await readLockParquetRows(`${dir}/pkg/assets.lock.parquet`)).map((r) => [r.key, r.etag]),
    [[`${dir}/data/a.tif`, "given"]],
  );
});

Deno.test("ferry build refuses bad input with one line and leaves no package", async (t) => {
  const { dir, itemsJson } = await fixture();
  const ipc = await itemsIpc(itemsJson);
  const before = await names(dir);
  const expectFailure = async (args: string[], pattern: RegExp, code?: number) => {
    const run = await ferry(args, ipc);
    if (code !== undefined) equal(run.code, code, run.stderr);
    else ok(run.code !== 0);
    match(run.stderr, pattern);
    equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    equal(run.text, "");
  };

  await t.step("a lock missing required columns", async () => {
    await duck(
      `COPY (SELECT 'one' AS item_id, 'file' AS store_type) TO '${dir}/partial.parquet' (FORMAT parquet)`,
    );
    await expectFailure(
      ["build", `${dir}/pkg`, "--asset-lock", `${dir}/partial.parquet`],
      /^ferry build: Invalid asset lock ".*partial\.parquet": missing column\(s\) asset_key, key\n$/,
      2,
    );
  });

  await t.step("a truncated or non-Parquet lock", async () => {
    const good = `${dir}/good.parquet`;
    const lock = await ferry(["asset-lock", "derive", "--no-probe-metadata"], ipc);
    await ferry(["asset-lock", "to-parquet", good], lock.stdout);
    const bytes = await Deno.readFile(good);
    await Deno.writeFile(`${dir}/cut.parquet`, bytes.subarray(0, bytes.length - 5));
    await expectFailure(
      ["build", `${dir}/pkg`, "--asset-lock", `${dir}/cut.parquet`],
      /^ferry build: Invalid asset lock ".*cut\.parquet": not a Parquet file or truncated/,
      2,
    );
    await Deno.writeTextFile(`${dir}/lock.csv`, "item_id,asset_key\n");
    await expectFailure(
      ["build", `${dir}/pkg`, "--asset-lock", `${dir}/lock.csv`],
      /^ferry build: Invalid asset lock ".*lock\.csv": not a Parquet file/,
      2,
    );
    const direct = await ferry(["asset-lock", "from-parquet", `${dir}/lock.csv`]);
    equal(direct.code, 2);
    match(direct.stderr, /^ferry asset-lock from-parquet: Invalid asset lock ".*lock\.csv"/);
    await Deno.remove(good);
  });

  await t.step("an asset whose probe fails without --keep-going", async () => {
    await expectFailure(
      ["build", `${dir}/pkg`, "--include-metadata-assets"],
      /^ferry build: Cannot probe row 3 \(item "one", asset "metadata"\) at ".*missing\.xml": /,
    );
    const derive = await ferry(["asset-lock", "derive", "--include-metadata-assets"], ipc);
    ok(derive.code !== 0);
    match(derive.stderr, /^ferry asset-lock derive: Cannot probe row 3 /);
  });

  await t.step("an include that does not exist", async () => {
    await expectFailure(
      ["build", `${dir}/pkg`, "--includes", `${dir}/nope.txt`],
      /^ferry build: Include ".*nope\.txt" does not exist\n$/,
    );
  });

  await t.step("an existing OUTPUT_DIR", async () => {
    await Deno.mkdir(`${dir}/existing`);
    await Deno.writeTextFile(`${dir}/existing/keep.txt`, "mine");
    await expectFailure(
      ["build", `${dir}/existing`],
      /^ferry build: Output folder ".*existing" already exists\n$/,
      5,
    );
    deepEqual(await names(`${dir}/existing`), ["keep.txt"]);
    await Deno.remove(`${dir}/existing`, { recursive: true });
  });

  await t.step("--include-assets with a lock whose checksum the bytes do not match", async () => {
    await Deno.writeTextFile(`${dir}/abc.bin`, "abc");
    const row = {
      item_id: "one",
      asset_key: "data",
      store_type: "file" as const,
      store_container: null,
      store_endpoint_url: null,
      key: `${dir}/abc.bin`,
      size_bytes: 3,
      etag: null,
      last_modified: null,
      checksum: "1220" + "0".repeat(64),
    };
    await writeLockParquetFile([[row]], `${dir}/wrong.parquet`);
    await expectFailure(
      ["build", `${dir}/pkg`, "--include-assets", "--asset-lock", `${dir}/wrong.parquet`],
      /^ferry build: Cannot copy row 1 \(item "one", asset "data"\): sha256 mismatch: expected 0{64}, actual ba7816bf/,
    );
    await Deno.remove(`${dir}/abc.bin`);
    await Deno.remove(`${dir}/wrong.parquet`);
  });

  await t.step("a bad --checksum and --max-workers", async () => {
    await expectFailure(["build", `${dir}/pkg`, "--checksum", "md5"], /Invalid checksum "md5"/, 2);
    await expectFailure(
      ["build", `${dir}/pkg`, "--max-workers", "0"],
      /Invalid --max-workers "0"/,
      2,
    );
  });

  deepEqual(
    (await names(dir)).filter((n) => !["partial.parquet", "cut.parquet", "lock.csv"].includes(n)),
    before,
    "no package and no temporary folder left behind",
  );
});

Deno.test("ferry build --keep-going keeps a failed probe as a row with nulls and reports it", async () => {
  const { dir, itemsJson } = await fixture();
  const built = await ferry(
    ["build", `${dir}/pkg`, "--include-metadata-assets", "--keep-going", "--checksum", "sha256"],
    await itemsIpc(itemsJson),
  );
  equal(built.code, 0, built.stderr);
  match(built.stderr, /^ferry: Cannot probe row 3 \(item "one", asset "metadata"\) at .*\n$/);
  const rows = await readLockParquetRows(`${dir}/pkg/assets.lock.parquet`);
  equal(rows.length, 4);
  deepEqual(
    [rows[2]!.asset_key, rows[2]!.size_bytes, rows[2]!.etag, rows[2]!.checksum],
    ["metadata", null, null, null],
  );
});

Deno.test("ferry demo builds, inspects and checks the shipped example offline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-demo-test-" });
  const run = await ferry(["demo", `${dir}/package`]);
  equal(run.code, 0, run.stderr);
  match(run.text, /# ferry inspect\n/);
  match(run.text, /- Items: 3\n- Collections: ferry-demo\n- Assets: 6\n/);
  match(run.text, /6 of 6 assets match their locked size and SHA-256\./);
  ok((await names(`${dir}/package`)).includes("assets"));
  const again = await ferry(["demo", `${dir}/package`]);
  equal(again.code, 5);
  match(again.stderr, /already exists/);
});
