import { deepEqual, equal, throws } from "node:assert/strict";
import * as arrow from "apache-arrow";
import { DATETIME_FORMAT_KEY, JSON_ENCODING_KEY, OVERFLOW_COLUMN } from "./item_layout.ts";
import { formatDatetimeMicros, parseDatetimeMicros } from "./datetime.ts";
import { ItemsEncoder } from "./items_encoder.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import type { StacItem } from "./item.ts";
import { dropNulls, fixtureItems, ITEM_FIXTURES } from "./_testing.ts";

const viaIpc = (batch: arrow.RecordBatch) =>
  arrow.tableFromIPC(arrow.tableToIPC(new arrow.Table([batch]), "stream")).batches[0]!;

const base = (id: string, properties: Record<string, unknown> = {}, extra = {}): StacItem => ({
  type: "Feature",
  stac_version: "1.0.0",
  id,
  geometry: { type: "Point", coordinates: [1, 2] },
  bbox: [1, 2, 1, 2],
  properties,
  links: [{ rel: "self", href: `https://x/${id}.json` }],
  assets: { data: { href: `s3://b/${id}.tif`, roles: ["data"] } },
  ...extra,
});

Deno.test("ItemsEncoder.encode() and decodeItemsBatch() round-trip every fixture", async () => {
  for (const name of ITEM_FIXTURES) {
    const items = await fixtureItems(name);
    const batch = viaIpc(ItemsEncoder.infer(items).encode(items));
    deepEqual(dropNulls(decodeItemsBatch(batch)), dropNulls(items), name);
  }
});

Deno.test("ItemsEncoder.infer() lays out the stac-geoparquet columns", async () => {
  const items = await fixtureItems("naip-pc.json");
  const schema = ItemsEncoder.infer(items).schema;
  const names = schema.fields.map((f) => f.name);
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
  equal(names.at(-1), OVERFLOW_COLUMN);
  const field = (n: string) => schema.fields.find((f) => f.name === n)!;
  equal(field("geometry").metadata.get("ARROW:extension:name"), "geoarrow.wkb");
  equal(
    String(field("bbox").type),
    "Struct<{xmin:Float64, ymin:Float64, xmax:Float64, ymax:Float64}>",
  );
  equal(String(field("datetime").type), "Timestamp<MICROSECOND, UTC>");
  equal(String(field("proj:epsg").type), "Int64");
  equal(String(field("gsd").type), "Float64");
  equal(arrow.DataType.isStruct(field("assets").type), true);
  equal(JSON.parse(schema.metadata.get("stac-geoparquet")!).version, "1.0.0");
});

Deno.test("ItemsEncoder keeps values that do not fit the first batch's schema in the overflow column", () => {
  const first = [base("a", { n: 1, s: "x", datetime: "2020-01-01T00:00:00Z", nested: { k: 1 } })];
  const later = [
    base("b", { n: "one", s: 2, extra: [1, "two"], datetime: "2020-01-01T00:00:00.5Z" }),
    base("c", { n: 1.5, nested: { k: 2, other: true } }, {
      assets: { data: { href: "x", title: "t" }, thumb: { href: "y" } },
      bbox: [0, 0, 0, 1, 1, 1],
      foreign: { member: true },
    }),
    base("d", {}, { geometry: { type: "LineString", coordinates: [[0, 0], [1, 1, 1]] } }),
  ];
  const encoder = ItemsEncoder.infer(first);
  const back = decodeItemsBatch(viaIpc(encoder.encode(later)));
  deepEqual(back, later);
  equal(viaIpc(encoder.encode(later)).schema.fields.length, encoder.schema.fields.length);
});

Deno.test("ItemsEncoder.infer() makes mixed-type columns JSON text and keeps 3D bboxes", () => {
  const items = [
    base("a", { mixed: 1 }, { bbox: [0, 0, 0, 1, 1, 1] }),
    base("b", { mixed: "x", empty: {} }),
  ];
  const encoder = ItemsEncoder.infer(items);
  const field = (n: string) => encoder.schema.fields.find((f) => f.name === n)!;
  equal(field("mixed").metadata.get(JSON_ENCODING_KEY), "json");
  equal(field("empty").metadata.get(JSON_ENCODING_KEY), "json");
  equal((field("bbox").type as arrow.Struct).children.length, 6);
  deepEqual(decodeItemsBatch(viaIpc(encoder.encode(items))), items);
});

Deno.test("ItemsEncoder.infer() makes RFC 3339 datetimes timestamps, other texts strings", () => {
  const items = [
    base("a", { datetime: "2020-01-01T00:00:00.000Z", created: "2020-01-01T00:00:00.123456Z" }),
    base("b", { datetime: "2020-01-02T00:00:00.500Z", created: "2020-01-01T00:00:01Z" }),
    base("c", { updated: "2020-01-01T00:00:00+01:00", end_datetime: "2020-01-01T00:00:00.90434Z" }),
  ];
  const encoder = ItemsEncoder.infer(items);
  const field = (n: string) => encoder.schema.fields.find((f) => f.name === n)!;
  equal(field("datetime").metadata.get(DATETIME_FORMAT_KEY), "ms");
  equal(field("created").metadata.get(DATETIME_FORMAT_KEY), "auto");
  // An offset or 5 fraction digits: still a timestamp (the text in the overflow).
  equal(String(field("updated").type), "Timestamp<MICROSECOND, UTC>");
  equal(String(field("end_datetime").type), "Timestamp<MICROSECOND, UTC>");
  const notDatetimes = ItemsEncoder.infer([base("d", { datetime: "2020-01-01" })]);
  equal(String(notDatetimes.schema.fields.find((f) => f.name === "datetime")!.type), "Utf8");
  deepEqual(decodeItemsBatch(viaIpc(encoder.encode(items))), items);
});

Deno.test("parseDatetimeMicros() and formatDatetimeMicros() keep microseconds", () => {
  equal(parseDatetimeMicros("2024-04-19T12:27:56.941678Z"), 1713529676941678);
  equal(formatDatetimeMicros(1713529676941678, "auto"), "2024-04-19T12:27:56.941678Z");
  equal(parseDatetimeMicros("2024-04-19T12:27:56.9416781Z"), undefined);
  equal(parseDatetimeMicros("2024-04-19"), undefined);
});

Deno.test("ItemsEncoder.fromSchema() rebuilds the encoder of a schema it wrote", async () => {
  const items = await fixtureItems("io-lulc-pc.json");
  const encoder = ItemsEncoder.infer(items);
  const again = ItemsEncoder.fromSchema(viaIpc(encoder.encode(items)).schema)!;
  deepEqual(dropNulls(decodeItemsBatch(viaIpc(again.encode(items)))), dropNulls(items));
  equal(ItemsEncoder.fromSchema(arrow.tableFromArrays({ x: [1] }).schema), undefined);
});

Deno.test("ItemsEncoder.infer() with complete has no overflow column unless an item needs one", () => {
  const items = [base("a", { n: 1 }), base("b", { late: "x" })];
  const names = (encoder: ItemsEncoder) => encoder.schema.fields.map((f) => f.name);
  equal(names(ItemsEncoder.infer(items, { complete: true })).includes(OVERFLOW_COLUMN), false);
  equal(names(ItemsEncoder.infer(items)).at(-1), OVERFLOW_COLUMN);
  const foreign = [...items, base("c", {}, { foreign: true })];
  const encoder = ItemsEncoder.infer(foreign, { complete: true });
  equal(names(encoder).at(-1), OVERFLOW_COLUMN);
  deepEqual(decodeItemsBatch(viaIpc(encoder.encode(foreign))), foreign);
});

Deno.test("ItemsEncoder.infer() writes a Feature type column and links as link structs even when empty", () => {
  const encoder = ItemsEncoder.infer([base("a", {}, { links: [] })], { complete: true });
  const field = (n: string) => encoder.schema.fields.find((f) => f.name === n)!;
  equal(String(field("links").type), "List<Struct<{href:Utf8, rel:Utf8, type:Utf8, title:Utf8}>>");
  const batch = viaIpc(encoder.encode([base("a", {}, { links: [] })]));
  equal(batch.getChild("type")!.get(0), "Feature");
  const withExtra = ItemsEncoder.infer([
    base("b", {}, { links: [{ rel: "x", href: "y", method: "GET" }] }),
  ]);
  equal(
    String(withExtra.schema.fields.find((f) => f.name === "links")!.type),
    "List<Struct<{href:Utf8, rel:Utf8, type:Utf8, title:Utf8, method:Utf8}>>",
  );
});

Deno.test("ItemsBatchBuilder.add() refuses an item a complete schema does not hold, naming it, adding nothing", () => {
  const encoder = ItemsEncoder.infer([base("a", { n: 1 })], { complete: true });
  const builder = encoder.builder();
  builder.add(base("a", { n: 1 }));
  throws(
    () => builder.add(base("b", { n: "text", other: 1 }, { foreign: 1 })),
    {
      name: "RangeError",
      message:
        'Item "b" does not fit the schema: no column holds "foreign", "properties.other", "properties.n"',
    },
  );
  equal(builder.length, 1);
  builder.add(base("c", { n: 2 }));
  deepEqual(decodeItemsBatch(viaIpc(builder.finish())).map((i) => i.id), ["a", "c"]);
});

Deno.test("ItemsEncoder.forArrowSchema() keeps every column of another writer's schema and refuses non-item tables", async () => {
  const items = await fixtureItems("3dep-lidar-copc-pc.json");
  // As stacpkg writes them: all-null columns of Arrow type null, no ferry metadata.
  const ours = viaIpc(ItemsEncoder.infer(items).encode(items));
  const fields = ours.schema.fields.filter((f) => f.name !== OVERFLOW_COLUMN && f.name !== "type")
    .map((f) =>
      f.name === "datetime" || f.name === "proj:epsg"
        ? new arrow.Field(f.name, new arrow.Null())
        : f
    );
  const schema = new arrow.Schema(fields);
  const encoder = ItemsEncoder.forArrowSchema(schema);
  const field = (n: string) => encoder.schema.fields.find((f) => f.name === n)!;
  equal(String(field("datetime").type), "Timestamp<MICROSECOND, UTC>");
  equal(String(field("proj:epsg").type), "Null");
  equal(encoder.schema.fields.some((f) => f.name === OVERFLOW_COLUMN), false);
  throws(
    () => ItemsEncoder.forArrowSchema(arrow.tableFromArrays({ x: [1] }).schema),
    { name: "RangeError", message: 'Not a table of STAC items: it has no "id" column' },
  );
  const badGeometry = new arrow.Schema([
    new arrow.Field("id", new arrow.Utf8()),
    new arrow.Field("geometry", new arrow.Float64()),
  ]);
  throws(() => ItemsEncoder.forArrowSchema(badGeometry), /neither WKB nor GeoJSON/);
});
