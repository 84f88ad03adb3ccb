import { deepEqual, equal, rejects } from "node:assert/strict";
import * as arrow from "apache-arrow";
import { itemsRecordBatchesOf } from "./foreign_items.ts";
import { ItemsEncoder } from "./items_encoder.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import { geometryToWkb } from "./wkb.ts";
import { dropNulls, fixtureItems } from "./_testing.ts";

async function* once<T>(...values: T[]): AsyncIterable<T> {
  yield* values;
}

/** A table as another writer makes it: plain Arrow types, no ferry metadata. */
function foreignBatch(columns: Record<string, arrow.Vector>): arrow.RecordBatch {
  return new arrow.Table(columns).batches[0]!;
}

const wkb = geometryToWkb({ type: "Point", coordinates: [1, 2] })!;

Deno.test("itemsRecordBatchesOf() passes batches ferry wrote as they are", async () => {
  const items = await fixtureItems("naip-pc.json");
  const batch = ItemsEncoder.infer(items, { complete: true }).encode(items);
  const out = await itemsRecordBatchesOf(batch.schema, once(batch));
  equal(out.schema, batch.schema);
  deepEqual(await Array.fromAsync(out.batches), [batch]);
});

Deno.test("itemsRecordBatchesOf() keeps another writer's null columns, makes links link structs, adds type", async () => {
  const batch = foreignBatch({
    id: arrow.vectorFromArray(["a", "b"]),
    geometry: arrow.vectorFromArray([wkb, null], new arrow.Binary()),
    links: arrow.vectorFromArray(
      [[{ rel: "self", href: "https://x/a" }], []],
      new arrow.List(
        new arrow.Field(
          "item",
          new arrow.Struct(["rel", "href"].map((n) => new arrow.Field(n, new arrow.Utf8()))),
        ),
      ),
    ),
    datetime: arrow.vectorFromArray([null, null], new arrow.Null()),
    start_datetime: arrow.vectorFromArray(
      [Date.UTC(2020, 0, 1), Date.UTC(2021, 0, 1)],
      new arrow.TimestampMillisecond(),
    ),
    "proj:epsg": arrow.vectorFromArray([null, null], new arrow.Null()),
    gsd: arrow.vectorFromArray([0.5, 1], new arrow.Float32()),
  });
  const out = await itemsRecordBatchesOf(batch.schema, once(batch));
  const type = (name: string) => String(out.schema.fields.find((f) => f.name === name)?.type);
  equal(type("datetime"), "Timestamp<MICROSECOND, UTC>");
  equal(type("proj:epsg"), "Null");
  equal(type("links"), "List<Struct<{href:Utf8, rel:Utf8, type:Utf8, title:Utf8}>>");
  equal(type("type"), "Utf8");
  equal(out.schema.fields.some((f) => f.name === "ferry:overflow"), false);
  const [encoded] = await Array.fromAsync(out.batches);
  const items = decodeItemsBatch(encoded!);
  deepEqual(items.map((i) => [i.id, i.geometry, i.links, i.properties]), [
    ["a", { type: "Point", coordinates: [1, 2] }, [{ href: "https://x/a", rel: "self" }], {
      start_datetime: "2020-01-01T00:00:00Z",
      gsd: 0.5,
    }],
    ["b", null, [], { start_datetime: "2021-01-01T00:00:00Z", gsd: 1 }],
  ]);
});

Deno.test("itemsRecordBatchesOf() makes a bbox list 3D when the first batch has a 3D box", async () => {
  const bboxes = [[0, 0, 0, 1, 1, 1], [0, 0, 1, 1]];
  const batch = foreignBatch({
    id: arrow.vectorFromArray(["a", "b"]),
    bbox: arrow.vectorFromArray(
      bboxes,
      new arrow.List(new arrow.Field("item", new arrow.Float64())),
    ),
  });
  const out = await itemsRecordBatchesOf(batch.schema, once(batch));
  const bbox = out.schema.fields.find((f) => f.name === "bbox")!.type as arrow.Struct;
  equal(bbox.children.length, 6);
  const [encoded] = await Array.fromAsync(out.batches);
  deepEqual(decodeItemsBatch(encoded!).map((i) => i.bbox), bboxes);
});

Deno.test("itemsRecordBatchesOf() refuses a table that is not one of items", async () => {
  const batch = foreignBatch({ x: arrow.vectorFromArray([1]) });
  await rejects(itemsRecordBatchesOf(batch.schema, once(batch), { source: "pipe" }), {
    name: "StacInputError",
    message: 'pipe: Not a table of STAC items: it has no "id" column',
  });
});

Deno.test("itemsRecordBatchesOf() gives back the items of every batch of another writer", async () => {
  const items = await fixtureItems("sentinel-2-l2a-pc.json");
  const ours = ItemsEncoder.infer(items).encode(items);
  // The same columns without ferry's metadata: read as another writer's.
  const schema = new arrow.Schema(ours.schema.fields.filter((f) => f.name !== "ferry:overflow"));
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: ours.numRows,
    nullCount: 0,
    children: ours.data.children.filter((_, j) => ours.schema.fields[j]!.name !== "ferry:overflow"),
  });
  const foreign = new arrow.RecordBatch(schema, data);
  const out = await itemsRecordBatchesOf(schema, once(foreign.slice(0, 2), foreign.slice(2)));
  const back = (await Array.fromAsync(out.batches)).flatMap((b) => decodeItemsBatch(b));
  deepEqual(dropNulls(back), dropNulls(items));
});
