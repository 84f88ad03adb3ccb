/**
 * Files every stac-geoparquet reader understands: late properties and asset
 * keys as real columns, a `type` column, links as link structs, all-null
 * columns of other writers kept, `geo` in the embedded Arrow schema, and
 * Parquet tables DuckDB wrote from STAC JSON read back as items. DuckDB is
 * the independent reader and writer.
 */
import * as arrow from "apache-arrow";
import { deepEqual, equal, match, notEqual } from "node:assert/strict";
import { type CliBytesResult, runCliBytes, withTempDir } from "./_cli.ts";
import { duck } from "./_duckdb.ts";
import { dropNulls, fixtureItems } from "../lib/stac/_testing.ts";
import { lockRowFor } from "../lib/lock/_testing.ts";
import { writeLockParquetFile } from "../lib/lock/parquet.ts";
import { ItemsEncoder, recordBatchesToIpc, type StacItem } from "../lib/stac/mod.ts";

const ferry = runCliBytes;
const encode = (text: string) => new TextEncoder().encode(text);
const ndjson = (r: CliBytesResult) =>
  r.text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));

function expectOk(r: CliBytesResult): CliBytesResult {
  equal(r.code, 0, r.stderr);
  return r;
}

function expectFailure(r: CliBytesResult, pattern: RegExp) {
  notEqual(r.code, 0);
  equal(r.stdout.byteLength, 0, "no output");
  equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  match(r.stderr.trimEnd(), pattern);
}

/** Column name → DuckDB type of a Parquet file. */
async function duckTypes(path: string): Promise<Record<string, string>> {
  const rows = await duck(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

const item = (id: string, properties: Record<string, unknown> = {}, extra = {}): StacItem => ({
  type: "Feature",
  stac_version: "1.0.0",
  id,
  geometry: { type: "Point", coordinates: [1, 2] },
  bbox: [1, 2, 1, 2],
  properties: { datetime: "2020-01-01T00:00:00Z", ...properties },
  links: [{ rel: "self", href: `https://x/${id}.json` }],
  assets: { data: { href: `s3://b/${id}.tif` } },
  ...extra,
});

/** Items whose fourth brings a property and the fifth an asset key no earlier item has. */
const LATE = [
  item("a"),
  item("b"),
  item("c"),
  item("d", { late: 42 }),
  item("e", {}, { assets: { data: { href: "s3://b/e.tif" }, extra: { href: "s3://b/x.tif" } } }),
];

Deno.test("ferry items from-ndjson: properties and asset keys first seen after the first batch are columns DuckDB reads", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/late.ndjson`;
    await Deno.writeTextFile(path, LATE.map((i) => JSON.stringify(i)).join("\n"));
    const fromFile = expectOk(await ferry(["items", "from-ndjson", path, "--batch-size", "2"]));
    const fromStdin = expectOk(
      await ferry(["items", "from-ndjson", "--batch-size", "2"], await Deno.readFile(path)),
    );
    deepEqual(fromStdin.stdout, fromFile.stdout);
    expectOk(await ferry(["items", "to-parquet", `${dir}/late.parquet`], fromFile.stdout));
    const types = await duckTypes(`${dir}/late.parquet`);
    equal(types.late, "BIGINT");
    equal(types.type, "VARCHAR");
    equal("ferry:overflow" in types, false);
    match(types.assets!, /extra STRUCT\(href VARCHAR/);
    const rows = await duck(
      `SELECT id, type, late, assets.extra.href AS extra FROM read_parquet('${dir}/late.parquet') ORDER BY id`,
    );
    deepEqual(rows.map((r) => [r.id, r.type, r.late === null ? null : Number(r.late), r.extra]), [
      ["a", "Feature", null, null],
      ["b", "Feature", null, null],
      ["c", "Feature", null, null],
      ["d", "Feature", 42, null],
      ["e", "Feature", null, "s3://b/x.tif"],
    ]);
    const back = expectOk(await ferry(["items", "to-ndjson"], fromFile.stdout));
    deepEqual(dropNulls(ndjson(back)), dropNulls(LATE));
  });
});

Deno.test("ferry items from-ndjson: stdin goes through a temporary file that is removed, also on failure", async () => {
  await withTempDir(async (dir) => {
    const before = Deno.env.get("TMPDIR");
    Deno.env.set("TMPDIR", dir);
    try {
      const lines = LATE.map((i) => JSON.stringify(i)).join("\n");
      expectOk(await ferry(["items", "from-ndjson"], encode(lines)));
      deepEqual([...Deno.readDirSync(dir)], []);
      expectFailure(
        await ferry(["items", "from-ndjson"], encode(`${lines}\n{"type":`)),
        /^ferry items from-ndjson: stdin:6: Invalid JSON/,
      );
      deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      if (before === undefined) Deno.env.delete("TMPDIR");
      else Deno.env.set("TMPDIR", before);
    }
  });
});

Deno.test("ferry items from-ndjson: a bad line after many batches fails before any byte is written", async () => {
  await withTempDir(async (dir) => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify(item(`i${i}`)));
    lines[36] = JSON.stringify(item("bad", {}, { links: null }));
    const path = `${dir}/bad.ndjson`;
    await Deno.writeTextFile(path, lines.join("\n"));
    expectFailure(
      await ferry(["items", "from-ndjson", path, "--batch-size", "1"]),
      new RegExp(`^ferry items from-ndjson: ${path}:37: Item "bad": "links" is not an array$`),
    );
    expectFailure(
      await ferry(["items", "from-ndjson", "--batch-size", "1"], encode(lines.join("\n"))),
      /^ferry items from-ndjson: stdin:37: Item "bad": "links" is not an array$/,
    );
  });
});

Deno.test("ferry items to-parquet: links are link structs also when every list is empty, and type is Feature", async () => {
  await withTempDir(async (dir) => {
    const items = [item("a", {}, { links: [] }), item("b", {}, { links: [] })];
    for (const kind of ["json", "ndjson"]) {
      const text = kind === "json"
        ? JSON.stringify(items)
        : items.map((i) => JSON.stringify(i)).join("\n");
      await Deno.writeTextFile(`${dir}/in.${kind}`, text);
      const ipc = expectOk(await ferry(["items", `from-${kind}`, `${dir}/in.${kind}`]));
      const path = `${dir}/${kind}.parquet`;
      expectOk(await ferry(["items", "to-parquet", path], ipc.stdout));
      const types = await duckTypes(path);
      equal(types.links, 'STRUCT(href VARCHAR, rel VARCHAR, "type" VARCHAR, title VARCHAR)[]');
      const rows = await duck(`SELECT DISTINCT type FROM read_parquet('${path}')`);
      deepEqual(rows, [{ type: "Feature" }]);
    }
  });
});

/**
 * An IPC stream as stacpkg writes one for items whose `datetime` and
 * `proj:epsg` are always null: those columns of Arrow type `null`, no ferry
 * metadata.
 */
async function stacpkgLikeStream(items: StacItem[]): Promise<Uint8Array> {
  const ours = ItemsEncoder.infer(items).encode(items);
  const keep = ours.schema.fields.map((f, j) => ({ f, j }))
    .filter(({ f }) => f.name !== "ferry:overflow" && f.name !== "type");
  const nulls = new Set(["datetime", "proj:epsg"]);
  const fields = keep.map(({ f }) =>
    nulls.has(f.name) ? new arrow.Field(f.name, new arrow.Null()) : f
  );
  const children = keep.map(({ f, j }) =>
    nulls.has(f.name)
      ? arrow.makeData({ type: new arrow.Null(), length: items.length, nullCount: items.length })
      : ours.data.children[j]!
  );
  const schema = new arrow.Schema(fields);
  const data = arrow.makeData({
    type: new arrow.Struct(fields),
    length: items.length,
    nullCount: 0,
    children,
  });
  async function* batches() {
    yield new arrow.RecordBatch(schema, data);
  }
  return new Uint8Array(await new Response(recordBatchesToIpc(schema, batches())).arrayBuffer());
}

Deno.test("ferry build and items to-parquet keep the all-null columns of a stacpkg stream; to-ndjson writes datetime null", async () => {
  await withTempDir(async (dir) => {
    const items = await fixtureItems("3dep-lidar-copc-pc.json");
    equal(items.every((i) => i.properties.datetime === null), true);
    const stream = await stacpkgLikeStream(items);
    expectOk(await ferry(["build", `${dir}/pkg`, "--no-probe-metadata"], stream));
    expectOk(await ferry(["items", "to-parquet", `${dir}/items.parquet`], stream));
    for (const path of [`${dir}/pkg/items.parquet`, `${dir}/items.parquet`]) {
      const types = await duckTypes(path);
      equal(types.datetime, "TIMESTAMP WITH TIME ZONE", path);
      equal(types["proj:epsg"], "INTEGER", path);
      equal(types.start_datetime, "TIMESTAMP WITH TIME ZONE", path);
      const ipc = expectOk(await ferry(["items", "from-parquet", path]));
      const back = ndjson(expectOk(await ferry(["items", "to-ndjson"], ipc.stdout)));
      equal(back.length, items.length);
      for (const line of back) {
        equal(line.properties.datetime, null);
        equal("datetime" in line.properties, true);
      }
      deepEqual(dropNulls(back), dropNulls(items));
    }
  });
});

Deno.test("ferry items to-parquet: the Arrow schema embedded in the file carries geo", async () => {
  await withTempDir(async (dir) => {
    const ipc = expectOk(
      await ferry([
        "items",
        "from-json",
        new URL("./fixtures/stac/naip-pc.json", import.meta.url).pathname,
      ]),
    );
    const path = `${dir}/naip.parquet`;
    expectOk(await ferry(["items", "to-parquet", path], ipc.stdout));
    const rows = await duck(
      `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${path}')`,
    );
    const kv = new Map(rows.map((r) => [String(r.key), String(r.value)]));
    const message = Uint8Array.from(atob(kv.get("ARROW:schema")!), (c) => c.charCodeAt(0));
    const embedded =
      arrow.tableFromIPC(new Uint8Array([...message, 255, 255, 255, 255, 0, 0, 0, 0]))
        .schema;
    equal(embedded.metadata.get("geo"), kv.get("geo"));
    equal(JSON.parse(embedded.metadata.get("geo")!).columns.geometry.encoding, "WKB");
    equal(JSON.parse(embedded.metadata.get("stac-geoparquet")!).version, "1.0.0");
  });
});

Deno.test("ferry items from-parquet: a table DuckDB wrote from STAC NDJSON comes back as the items", async () => {
  await withTempDir(async (dir) => {
    const items = [
      ...await fixtureItems("naip-pc.json"),
      ...await fixtureItems("planet-nicfi-analytic-pc.json"),
      ...await fixtureItems("cop-dem-glo-30-pc.json"),
    ];
    await Deno.writeTextFile(`${dir}/in.ndjson`, items.map((i) => JSON.stringify(i)).join("\n"));
    const path = `${dir}/duck.parquet`;
    await duck(
      `COPY (SELECT * FROM read_ndjson('${dir}/in.ndjson')) TO '${path}' (FORMAT parquet)`,
    );
    const ipc = expectOk(await ferry(["items", "from-parquet", path, "--batch-size", "5"]));
    const back = ndjson(expectOk(await ferry(["items", "to-ndjson"], ipc.stdout)));
    // DuckDB keeps datetimes as timestamps: the instant comes back, not its text.
    const instants = (list: StacItem[]) =>
      list.map((i) => ({
        ...i,
        properties: Object.fromEntries(
          Object.entries(i.properties).map((
            [k, v],
          ) => [k, k.endsWith("datetime") && typeof v === "string" ? Date.parse(v) : v]),
        ),
      }));
    deepEqual(dropNulls(instants(back)), dropNulls(instants(items)));
    // And on to stac-geoparquet that DuckDB reads as such.
    expectOk(await ferry(["items", "to-parquet", `${dir}/ferry.parquet`], ipc.stdout));
    const types = await duckTypes(`${dir}/ferry.parquet`);
    match(types.geometry!, /^GEOMETRY/);
    equal("properties" in types, false);
    equal(types.gsd, "DOUBLE");
  });
});

Deno.test("ferry items from-parquet: a Parquet table that is not one of items fails with one line, nothing written", async () => {
  await withTempDir(async (dir) => {
    const noId = `${dir}/no-id.parquet`;
    await duck(`COPY (SELECT 1 AS x) TO '${noId}' (FORMAT parquet)`);
    expectFailure(
      await ferry(["items", "from-parquet", noId]),
      new RegExp(
        `^ferry items from-parquet: ${noId}: Not a table of STAC items: it has no "id" column$`,
      ),
    );
    const badGeometry = `${dir}/bad-geometry.parquet`;
    await duck(
      `COPY (SELECT 'a' AS id, 1.5::DOUBLE AS geometry) TO '${badGeometry}' (FORMAT parquet)`,
    );
    expectFailure(
      await ferry(["items", "from-parquet", badGeometry]),
      /Not a table of STAC items: the "geometry" column \(Float64\) is neither WKB nor GeoJSON$/,
    );
    const notGeoJson = `${dir}/not-geojson.parquet`;
    await duck(
      `COPY (SELECT 'a' AS id, {'type': 'Circle', 'radius': 1} AS geometry) TO '${notGeoJson}' (FORMAT parquet)`,
    );
    expectFailure(
      await ferry(["items", "from-parquet", notGeoJson]),
      new RegExp(`${notGeoJson} row 1: Cannot read items \\(A geometry is neither WKB nor GeoJSON`),
    );
  });
});

Deno.test("ferry items enrich: asset fields only later items get are columns, no ferry:overflow", async () => {
  await withTempDir(async (dir) => {
    const items = await fixtureItems("naip-pc.json");
    const lock = `${dir}/assets.lock.parquet`;
    // Only the items of the second batch have lock rows: the first batch has no file:size.
    await writeLockParquetFile(
      [items.slice(2).map((i) => lockRowFor(i.id, "image", { size_bytes: 42 }))],
      lock,
    );
    const fixture = new URL("./fixtures/stac/naip-pc.json", import.meta.url).pathname;
    const ipc = expectOk(await ferry(["items", "from-json", fixture, "--batch-size", "2"]));
    const enriched = expectOk(await ferry(["items", "enrich", "--asset-lock", lock], ipc.stdout));
    expectOk(await ferry(["items", "to-parquet", `${dir}/enriched.parquet`], enriched.stdout));
    const types = await duckTypes(`${dir}/enriched.parquet`);
    equal("ferry:overflow" in types, false);
    match(types.assets!, /^STRUCT\(image STRUCT\(.*"file:size" BIGINT\), thumbnail/);
    const rows = await duck(
      `SELECT id, assets.image."file:size" AS size FROM read_parquet('${dir}/enriched.parquet')`,
    );
    deepEqual(
      rows.map((r) => [r.id, r.size === null ? null : Number(r.size)]),
      items.map((i, n) => [i.id, n < 2 ? null : 42]),
    );
  });
});

Deno.test("ferry items to-parquet and build: an Arrow stream that is not one of items fails with one line, nothing written", async () => {
  await withTempDir(async (dir) => {
    const table = arrow.tableFromArrays({ x: new Float64Array([1, 2]) });
    const stream = arrow.tableToIPC(table, "stream");
    expectFailure(
      await ferry(["items", "to-parquet", `${dir}/x.parquet`], stream),
      /^ferry items to-parquet: stdin: Not a table of STAC items: it has no "id" column$/,
    );
    expectFailure(
      await ferry(["build", `${dir}/pkg`, "--no-probe-metadata"], stream),
      /^ferry build: stdin: Not a table of STAC items: it has no "id" column$/,
    );
    deepEqual([...Deno.readDirSync(dir)], []);
  });
});
