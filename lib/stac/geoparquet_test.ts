import { deepEqual, equal, match, rejects } from "node:assert/strict";
import * as arrow from "apache-arrow";
import * as pw from "parquet-wasm";
import { duck } from "../../tests/_duckdb.ts";
import { writeItemsParquet } from "./geoparquet.ts";
import { readItemsParquet } from "./geoparquet_read.ts";
import type { StacItem } from "./item.ts";
import { StacInputError } from "./item.ts";
import {
  dropNulls,
  fixtureItems,
  FIXTURES,
  inBatches,
  ITEM_FIXTURES,
  memorySink,
} from "./_testing.ts";

async function toParquet(batches: AsyncIterable<StacItem[]>, rowGroupSize?: number) {
  const { sink, bytes } = memorySink();
  const { rows } = await writeItemsParquet(batches, sink, { rowGroupSize });
  return { rows, bytes: bytes() };
}

async function fileMeta(bytes: Uint8Array) {
  const file = await pw.ParquetFile.fromFile(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  const meta = file.metadata();
  const kv = meta.fileMetadata().keyValueMetadata() as Map<string, string>;
  const groups = meta.numRowGroups();
  file.free();
  return { kv, groups };
}

Deno.test("writeItemsParquet() and readItemsParquet() round-trip every fixture (JSON-equal up to null)", async () => {
  for (const name of ITEM_FIXTURES) {
    const items = await fixtureItems(name);
    const { rows, bytes } = await toParquet(inBatches(items, 2), 3);
    equal(rows, items.length);
    const back = (await Array.fromAsync(readItemsParquet(bytes, { batchSize: 3 }))).flat();
    deepEqual(dropNulls(back), dropNulls(items), name);
  }
});

Deno.test("writeItemsParquet() writes geo 1.1 with the bbox covering and stac-geoparquet metadata", async () => {
  const items = await fixtureItems("io-lulc-pc.json");
  const { bytes } = await toParquet(inBatches(items, 100));
  const { kv } = await fileMeta(bytes);
  const geo = JSON.parse(kv.get("geo")!);
  equal(geo.version, "1.1.0");
  equal(geo.primary_column, "geometry");
  const column = geo.columns.geometry;
  equal(column.encoding, "WKB");
  deepEqual(column.geometry_types, ["MultiPolygon", "Polygon"]);
  equal(column.bbox.length, 4);
  deepEqual(column.covering.bbox.xmin, ["bbox", "xmin"]);
  deepEqual(column.covering.bbox.ymax, ["bbox", "ymax"]);
  equal(JSON.parse(kv.get("stac-geoparquet")!).version, "1.0.0");
});

Deno.test("writeItemsParquet() streams batches into row groups and widens across batches", async () => {
  const template = (await fixtureItems("naip-pc.json"))[0]!;
  async function* batches() {
    for (let b = 0; b < 5; b++) {
      const batch: StacItem[] = [];
      for (let i = 0; i < 200; i++) {
        const id = `item-${b}-${i}`;
        const properties: Record<string, unknown> = { ...template.properties, n: b * 1000 + i };
        if (b === 3) properties[`new_${i % 3}`] = i % 2 ? "text" : 7;
        if (b === 4) properties.gsd = "one metre";
        const assets = b === 2
          ? { ...template.assets, extra: { href: `x/${id}` } }
          : template.assets;
        batch.push({ ...template, id, properties, assets });
      }
      yield batch;
    }
  }
  const { rows, bytes } = await toParquet(batches(), 250);
  equal(rows, 1000);
  const { kv, groups } = await fileMeta(bytes);
  equal(groups, 4);
  deepEqual(JSON.parse(kv.get("geo")!).columns.geometry.geometry_types, []);
  const back = (await Array.fromAsync(readItemsParquet(bytes))).flat();
  const expected = (await Array.fromAsync(batches())).flat();
  equal(back.length, 1000);
  deepEqual(dropNulls(back), dropNulls(expected));
});

Deno.test("writeItemsParquet() writes an empty file with the core columns", async () => {
  const { rows, bytes } = await toParquet(inBatches([], 1));
  equal(rows, 0);
  deepEqual((await Array.fromAsync(readItemsParquet(bytes))).flat(), []);
});

Deno.test("readItemsParquet() reads the reference implementation's naip.parquet", async () => {
  const items =
    (await Array.fromAsync(readItemsParquet(new URL("naip.parquet", FIXTURES).pathname)))
      .flat();
  equal(items.length, 5);
  const first = items[0]!;
  equal(first.id, "ok_m_3409901_nw_14_1_20100425");
  equal(first.type, "Feature");
  equal(first.collection, "naip");
  equal(first.properties.datetime, "2010-04-25T00:00:00Z");
  equal(first.properties["proj:epsg"], 26914);
  deepEqual(first.properties["proj:shape"], [7588, 6375]);
  deepEqual(first.bbox, [-100.004084, 34.934259, -99.933454, 35.00323]);
  equal(first.geometry?.type, "Polygon");
  deepEqual(Object.keys(first.assets).sort(), [
    "image",
    "rendered_preview",
    "thumbnail",
    "tilejson",
  ]);
  equal("title" in (first.links[0] as object), false);
  equal(first.stac_extensions?.length, 2);
});

Deno.test("readItemsParquet() rejects a truncated and a non-Parquet file naming it", async () => {
  const items = await fixtureItems("naip-pc.json");
  const { bytes } = await toParquet(inBatches(items, 10));
  const dir = await Deno.makeTempDir();
  try {
    const truncated = `${dir}/truncated.parquet`;
    await Deno.writeFile(truncated, bytes.subarray(0, bytes.length - 100));
    await rejects(Array.fromAsync(readItemsParquet(truncated)), (e) => {
      equal(e instanceof StacInputError, true);
      match((e as Error).message, new RegExp(`^${truncated}: Not a Parquet file or truncated`));
      return true;
    });
    const text = `${dir}/text.parquet`;
    await Deno.writeTextFile(text, JSON.stringify(items));
    await rejects(Array.fromAsync(readItemsParquet(text)), {
      message: new RegExp(`^${text}: Not a Parquet file`),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeItemsParquet() output is read by DuckDB with the expected columns and rows", async () => {
  const items = await fixtureItems("naip-pc.json");
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/items.parquet`;
    const file = await Deno.open(path, { write: true, create: true });
    await writeItemsParquet(inBatches(items, 3), file.writable);
    const columns = (await duck(`DESCRIBE SELECT * FROM read_parquet('${path}')`))
      .map((r) => [r.column_name, r.column_type]);
    const names = columns.map(([n]) => n);
    deepEqual(names.slice(0, 8), [
      "stac_version",
      "stac_extensions",
      "id",
      "geometry",
      "bbox",
      "links",
      "assets",
      "collection",
    ]);
    for (const p of Object.keys(items[0]!.properties)) equal(names.includes(p), true, p);
    const type = Object.fromEntries(columns);
    equal(type.datetime, "TIMESTAMP WITH TIME ZONE");
    match(String(type.bbox), /^STRUCT\(xmin DOUBLE, ymin DOUBLE, xmax DOUBLE, ymax DOUBLE\)$/);
    const [count] = await duck(
      `SELECT count(*)::INTEGER AS n, min(bbox.xmin) AS xmin,
              strftime(max(datetime) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS latest
       FROM read_parquet('${path}')`,
    );
    equal(count!.n, 4);
    equal(count!.xmin, Math.min(...items.map((i) => i.bbox![0]!)));
    equal(count!.latest, items.map((i) => String(i.properties.datetime)).sort().at(-1));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The Arrow schema a Parquet file embeds (`ARROW:schema`, an IPC schema message in base64). */
function embeddedArrowSchema(kv: Map<string, string>): arrow.Schema {
  const message = Uint8Array.from(atob(kv.get("ARROW:schema")!), (c) => c.charCodeAt(0));
  const stream = new Uint8Array([...message, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  return arrow.tableFromIPC(stream).schema;
}

Deno.test("writeItemsParquet() puts geo and stac-geoparquet in the Arrow schema it embeds, also for an empty file", async () => {
  const items = await fixtureItems("naip-pc.json");
  for (const batches of [inBatches(items, 3), inBatches(items, 100), inBatches([], 1)]) {
    const { kv } = await fileMeta((await toParquet(batches)).bytes);
    const embedded = embeddedArrowSchema(kv);
    equal(embedded.metadata.get("geo"), kv.get("geo"));
    equal(embedded.metadata.get("stac-geoparquet"), kv.get("stac-geoparquet"));
    equal(JSON.parse(kv.get("geo")!).primary_column, "geometry");
  }
});
