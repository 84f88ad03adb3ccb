import { deepEqual, equal, match, rejects } from "node:assert/strict";
import type * as arrow from "apache-arrow";
import * as pw from "parquet-wasm";
import * as arrowJs from "apache-arrow";
import { duck } from "../../tests/_duckdb.ts";
import { writeItemsParquet, writeRecordBatchesParquet } from "./geoparquet.ts";
import { readItemsParquetRecordBatches } from "./geoparquet_read.ts";
import { ItemsEncoder } from "./items_encoder.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import type { StacItem } from "./item.ts";
import { dropNulls, fixtureItems, inBatches, memorySink } from "./_testing.ts";

const names = (schema: arrow.Schema) => schema.fields.map((f) => f.name);

async function readBack(source: string | Uint8Array, filters = {}) {
  const { schema, batches } = await readItemsParquetRecordBatches(source, {
    batchSize: 3,
    filters,
  });
  const items = (await Array.fromAsync(batches)).flatMap((b) => decodeItemsBatch(b));
  return { schema, items };
}

const late = (item: StacItem, i: number): StacItem => ({
  ...item,
  id: `${item.id}-late`,
  properties: {
    ...item.properties,
    // Values of three kinds: DuckDB stores the column as JSON text.
    mixed: [1, "text", { nested: [true] }][i % 3],
    late: `value ${i}`,
  },
  assets: { ...item.assets, late: { href: `s3://b/${i}.tif`, "file:size": i } },
});

Deno.test("readItemsParquetRecordBatches() reads a table DuckDB wrote from STAC NDJSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const items: StacItem[] = [];
    for (const name of ["naip-pc.json", "3dep-lidar-copc-pc.json", "io-lulc-pc.json"]) {
      items.push(...await fixtureItems(name));
    }
    items.push(...items.slice(0, 3).map(late));
    await Deno.writeTextFile(`${dir}/items.ndjson`, items.map((i) => JSON.stringify(i)).join("\n"));
    await duck(
      `COPY (SELECT * FROM read_ndjson('${dir}/items.ndjson')) TO '${dir}/duck.parquet' (FORMAT parquet)`,
    );
    const [{ types }] = await duck(
      `SELECT string_agg(column_type, ' ') AS types FROM (DESCRIBE SELECT * FROM '${dir}/duck.parquet')`,
    ) as [{ types: string }];
    // What the reader has to undo: GeoJSON structs, nested properties, JSON text.
    match(types, /STRUCT\("type" VARCHAR, coordinates JSON\[\]\[\]\[\]\)/);
    match(types, /mixed JSON/);
    const { schema, items: back } = await readBack(`${dir}/duck.parquet`);
    equal(names(schema).includes("properties"), false);
    equal(names(schema).includes("ferry:overflow"), false);
    for (const key of ["gsd", "mixed", "late", "type"]) {
      equal(names(schema).includes(key), true, key);
    }
    deepEqual(dropNulls(back), dropNulls(items));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readItemsParquetRecordBatches() makes the overflow column of a file ferry wrote before into columns", async () => {
  const items = await fixtureItems("sentinel-2-l2a-pc.json");
  const all = [...items, ...items.map(late)];
  // As ferry wrote files before: the schema from the first batch, the rest in the overflow.
  const encoder = ItemsEncoder.infer(items);
  const { sink, bytes } = memorySink();
  async function* batches() {
    yield encoder.encode(items);
    yield encoder.encode(all.slice(items.length));
  }
  await writeRecordBatchesParquet(encoder.schema, batches(), sink);
  const { schema, items: back } = await readBack(bytes());
  equal(names(schema).includes("ferry:overflow"), false);
  equal(names(schema).includes("late"), true);
  deepEqual(dropNulls(back), dropNulls(all));
});

Deno.test("readItemsParquetRecordBatches() passes a file ferry wrote as it is, and filters it", async () => {
  const items = await fixtureItems("naip-pc.json");
  const { sink, bytes } = memorySink();
  await writeItemsParquet(inBatches(items, 2), sink);
  const whole = await readBack(bytes());
  deepEqual(dropNulls(whole.items), dropNulls(items));
  const some = await readBack(bytes(), { itemIds: [items[1]!.id] });
  deepEqual(names(some.schema), names(whole.schema));
  deepEqual(some.items.map((i) => i.id), [items[1]!.id]);
});

Deno.test("readItemsParquetRecordBatches() refuses a Parquet file that is not a table of items", async () => {
  const ipc = arrowJs.tableToIPC(arrowJs.tableFromArrays({ x: new Float64Array([1]) }), "stream");
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(ipc));
  await rejects(readItemsParquetRecordBatches(bytes, { source: "x.parquet" }), {
    name: "StacInputError",
    message: 'x.parquet: Not a table of STAC items: it has no "id" column',
  });
});
