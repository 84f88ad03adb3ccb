/**
 * NDJSON read from bytes into columns must give exactly what parsing every
 * line gives: the same Arrow IPC bytes, the same errors.
 */
import { deepEqual, equal, rejects } from "node:assert/strict";
import { itemsFromJsonText, ndjsonItemChunks } from "./json_input.ts";
import { allItemsToRecordBatches, itemsToRecordBatches, recordBatchesToIpc } from "./ipc.ts";
import { ndjsonToRecordBatches } from "./ndjson_batches.ts";
import type * as arrow from "apache-arrow";
import { ItemsEncoder } from "./items_encoder.ts";

const FIXTURES = new URL("../../tests/fixtures/stac/", import.meta.url);
const encoder = new TextEncoder();

async function ipcBytes(
  records: Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }>,
): Promise<Uint8Array> {
  const { schema, batches } = await records;
  return new Uint8Array(await new Response(recordBatchesToIpc(schema, batches)).arrayBuffer());
}

/** A stream of `text` in pieces of `piece` bytes (lines split across chunks). */
function streamOf(text: string | Uint8Array, piece = 7): ReadableStream<Uint8Array> {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) controller.close();
      else controller.enqueue(bytes.slice(at, at += piece));
    },
  });
}

async function assertSameAsParsing(text: string | Uint8Array, batchSize: number): Promise<void> {
  const fast = await ipcBytes(ndjsonToRecordBatches(streamOf(text), { batchSize }));
  const parsed = await ipcBytes(
    itemsToRecordBatches(ndjsonItemChunks(streamOf(text)), { batchSize }),
  );
  deepEqual(fast, parsed);
}

const base = {
  type: "Feature",
  stac_version: "1.0.0",
  id: "a",
  geometry: { type: "Point", coordinates: [1.5, 2] },
  bbox: [1.5, 2, 1.5, 2],
  properties: { datetime: "2020-01-01T00:00:00Z", n: 1, x: 0.5, ok: true, tags: ["a"] },
  links: [{ rel: "self", href: "https://x/a.json" }],
  assets: { data: { href: "s3://b/a.tif", roles: ["data"], "file:size": 10 } },
  collection: "c",
};
const line = (patch: Record<string, unknown>, properties: Record<string, unknown> = {}) =>
  JSON.stringify({ ...base, ...patch, properties: { ...base.properties, ...properties } });

/** Lines that fit the first line's schema, or nearly, each in its own way. */
const VARIANTS: string[] = [
  line({}),
  line({ id: "b" }, { n: 2, x: -0, tags: [] }),
  line({ id: "c" }, { n: 1.0, x: 1e2 }).replace('"n":1', '"n":1.0'),
  line({ id: "d" }, { x: 18.531305736937234, n: 9007199254740991 }),
  line({ id: "e" }, { x: 1.7976931348623157e308 }).replace(
    "1.7976931348623157e+308",
    "1.7976931348623157E308",
  ),
  line({ id: "f" }, { x: 5e-324, n: -12 }),
  line({ id: "g" }, { n: 9007199254740993 }),
  line({ id: "h" }, { tags: ["é", 'a"b', "tab\tx", "\u0001", "😀"] }),
  line({ id: "i", collection: null }, { ok: false, x: null }),
  line({ id: "j", bbox: null, geometry: null }),
  line({ id: "k", bbox: [1, 2, 3, 4, 5, 6], geometry: { type: "Point", coordinates: [1, 2, 3] } }),
  line({ id: "l", geometry: { type: "LineString", coordinates: [[1, 2], [3, 4]] } }),
  line({ id: "m", geometry: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } }),
  line({ id: "n", geometry: { type: "MultiPoint", coordinates: [[1, 2, 3], [4, 5, 6]] } }),
  line({
    id: "o",
    geometry: { type: "MultiLineString", coordinates: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] },
  }),
  line({
    id: "p",
    geometry: {
      type: "MultiPolygon",
      coordinates: [[[[0, 0], [1, 0], [0, 0]]], [[[2, 2], [3, 2], [2, 2]], [
        [2.5, 2.5],
        [2.6, 2.5],
        [2.5, 2.5],
      ]]],
    },
  }),
  line({
    id: "q",
    geometry: { type: "GeometryCollection", geometries: [{ type: "Point", coordinates: [1, 2] }] },
  }),
  line({ id: "r", geometry: { type: "LineString", coordinates: [[1, 2], [3, 4, 5]] } }),
  line({ id: "s", geometry: { type: "Polygon", coordinates: [] } }),
  line({ id: "t", geometry: { type: "Point", coordinates: [1, 2], crs: "x" } }),
  line({ id: "u", bbox: ["1", 2, 3, 4] }),
  line({ id: "v" }, { datetime: "2020-01-01T00:00:00.5Z" }),
  line({ id: "w" }, { datetime: "2020-01-01T02:00:00+02:00" }),
  line({ id: "x" }, { brand_new: 1 }),
  line({ id: "y", extra_top: { a: 1 } }),
  line({ id: "z", assets: { data: { href: "s3://b/z.tif", roles: "data" } } }),
  line({ id: "A", assets: { other: { href: "s3://b/o.tif" } } }),
  line({ id: "B" }, { n: "text" }),
  // Key order, whitespace, CRLF, a BOM, duplicate keys, escapes in keys.
  JSON.stringify(
    { ...base, id: "C" },
    Object.keys(base).reverse().concat(
      Object.keys(base.properties),
      "data",
      "href",
      "roles",
      "file:size",
      "rel",
      "type",
      "coordinates",
    ),
    1,
  ).replaceAll("\n", ""),
  line({ id: "D" }).replace("{", "{ ") + "  \r",
  "\ufeff" + line({ id: "E" }),
  line({ id: "F" }).replace('"collection":"c"', '"collection":"c","collection":"d"'),
  line({ id: "G" }).replace('"n":1', '"n":1,"n":2'),
  line({ id: "H" }).replace('"collection"', '"coll\\u0065ction"'),
  line({ id: "I" }).replace('"href":"s3://b/a.tif"', '"href":"s3:\\/\\/b\\/a.tif"'),
  "",
  "   ",
  line({ id: "J", stac_extensions: ["https://e/1.json"] }),
];

Deno.test("ndjsonToRecordBatches() gives the same Arrow bytes as parsing every line", async () => {
  const text = VARIANTS.join("\n");
  for (const batchSize of [1, 2, 5, 1000]) await assertSameAsParsing(text, batchSize);
});

Deno.test("ndjsonToRecordBatches() reads invalid UTF-8 as parsing does (U+FFFD)", async () => {
  const good = encoder.encode(line({}) + "\n");
  const text = line({ id: "b" }, { tags: ["QQ"] });
  const bad = encoder.encode(text);
  bad[text.indexOf("QQ")] = 0xff;
  const bytes = new Uint8Array([...good, ...bad, 0x0a, ...good]);
  await assertSameAsParsing(bytes, 1);
});

Deno.test("ndjsonToRecordBatches() gives the same Arrow bytes as parsing for every fixture", async () => {
  for await (const entry of Deno.readDir(FIXTURES)) {
    if (!entry.name.endsWith(".json") || entry.name === "collection.json") continue;
    const items = itemsFromJsonText(await Deno.readTextFile(new URL(entry.name, FIXTURES)));
    // Each item again with another id: lines after the first batch are read from bytes.
    const lines = [...items, ...items.map((item) => ({ ...item, id: `${item.id}-2` }))]
      .map((item) => JSON.stringify(item));
    for (const batchSize of [1, 3]) await assertSameAsParsing(lines.join("\n"), batchSize);
  }
});

Deno.test("ndjsonToRecordBatches() names the line of a bad item after the first batch", async () => {
  const cases: [string, RegExp][] = [
    ['{"type":"Feature"', /x\.ndjson:3: Invalid JSON/],
    [line({ id: "" }), /x\.ndjson:3: Item "id" is not a non-empty string/],
    [line({ links: null }), /x\.ndjson:3: Item "a": "links" is not an array/],
    [line({ assets: null }), /x\.ndjson:3: Item "a": "assets" is not an object/],
    [line({ type: "feature" }), /x\.ndjson:3: Item has type "feature"/],
    [line({ geometry: { type: "Circle", coordinates: [] } }), /x\.ndjson:3: .*unknown type/],
    [line({}) + "x", /x\.ndjson:3: Invalid JSON/],
    [line({}).replace('"n":1', '"n":01'), /x\.ndjson:3: Invalid JSON/],
    [line({}, { tags: ["a\tb"] }).replace("\\t", "\t"), /x\.ndjson:3: Invalid JSON/],
    [
      JSON.stringify({ ...base, properties: undefined }),
      /x\.ndjson:3: .*"properties" is not an object/,
    ],
  ];
  for (const [bad, message] of cases) {
    const text = [line({}), "", bad, line({ id: "z" })].join("\n");
    await rejects(async () => {
      const { batches } = await ndjsonToRecordBatches(streamOf(text), {
        source: "x.ndjson",
        batchSize: 1,
      });
      for await (const _ of batches) { /* read on */ }
    }, message);
  }
});

Deno.test("ndjsonToRecordBatches() applies filters and gives no batch for no items", async () => {
  const text = [line({}), line({ id: "b", collection: "d" }), line({ id: "c" })].join("\n");
  const { batches } = await ndjsonToRecordBatches(streamOf(text), {
    batchSize: 1,
    filters: { collections: ["c"] },
  });
  equal((await Array.fromAsync(batches)).length, 2);
  const empty = await ndjsonToRecordBatches(streamOf("\n\n"), {});
  equal((await Array.fromAsync(empty.batches)).length, 0);
});

Deno.test("ItemsBatchBuilder.addJsonLine() reads the lines that fit and refuses the rest", () => {
  const builder = ItemsEncoder.infer([JSON.parse(VARIANTS[0]!)]).builder();
  const read: string[] = [];
  for (const text of VARIANTS) {
    if (builder.addJsonLine(encoder.encode(text))) read.push(JSON.parse(text.trim()).id);
  }
  equal(read.join(" "), "a b c d e f h i j l m n o p C D I J");
  equal(builder.finish().numRows, read.length);
});

/** Encoding every parsed item with a schema made from all of them. */
async function assertSameAsParsingAll(text: string | Uint8Array, batchSize: number): Promise<void> {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const twice = await ipcBytes(
    ndjsonToRecordBatches(new Blob([bytes as Uint8Array<ArrayBuffer>]), { batchSize }),
  );
  const items = (await Array.fromAsync(ndjsonItemChunks(streamOf(bytes)))).flat();
  const parsed = await ipcBytes(Promise.resolve(allItemsToRecordBatches(items, { batchSize })));
  deepEqual(twice, parsed);
}

Deno.test("ndjsonToRecordBatches() on input read twice gives the bytes of a schema made from every parsed item", async () => {
  for (const batchSize of [1, 2, 5, 1000]) {
    await assertSameAsParsingAll(VARIANTS.join("\n"), batchSize);
  }
  for await (const entry of Deno.readDir(FIXTURES)) {
    if (!entry.name.endsWith(".json") || entry.name === "collection.json") continue;
    const items = itemsFromJsonText(await Deno.readTextFile(new URL(entry.name, FIXTURES)));
    const lines = [...items, ...items.map((item) => ({ ...item, id: `${item.id}-2` }))]
      .map((item) => JSON.stringify(item));
    for (const batchSize of [1, 3]) await assertSameAsParsingAll(lines.join("\n"), batchSize);
  }
});

Deno.test("ndjsonToRecordBatches() on input read twice makes late properties and asset keys columns", async () => {
  const text = [
    line({}),
    line({ id: "b" }),
    line({ id: "c", assets: { late: { href: "s3://b/late.tif", "file:size": 3 } } }, {
      late: { k: [1, 2] },
    }),
  ].join("\n");
  const { schema, batches } = await ndjsonToRecordBatches(new Blob([text]), { batchSize: 2 });
  const names = schema.fields.map((f) => f.name);
  equal(names.includes("late"), true);
  equal(names.includes("ferry:overflow"), false);
  const assets = schema.fields.find((f) => f.name === "assets")!.type as arrow.Struct;
  deepEqual(assets.children.map((c) => c.name), ["data", "late"]);
  const records = await Array.fromAsync(batches);
  deepEqual(records.map((b) => b.numRows), [2, 1]);
  for (const batch of records) deepEqual(batch.schema.fields.map((f) => f.name), names);
});

Deno.test("ndjsonToRecordBatches() on input read twice names a bad line before any batch is made", async () => {
  const lines = Array.from({ length: 6 }, (_, i) => line({ id: `i${i}` }));
  lines[4] = line({ id: "bad" }).replace('"n":1', '"n":01');
  let read = 0;
  const input = {
    stream() {
      read++;
      return new Blob([lines.join("\n")]).stream();
    },
  };
  await rejects(
    ndjsonToRecordBatches(input, { source: "x.ndjson", batchSize: 1 }),
    /^StacInputError: x\.ndjson:5: Invalid JSON/,
  );
  equal(read, 1);
});

Deno.test("ndjsonToRecordBatches() on input read twice names a line the schema of the first read does not hold", async () => {
  let read = 0;
  const input = {
    stream() {
      const lines = read++ === 0 ? [line({})] : [line({}), line({ id: "new" }, { brand_new: 1 })];
      return new Blob([lines.join("\n")]).stream();
    },
  };
  const { batches } = await ndjsonToRecordBatches(input, { source: "x.ndjson" });
  await rejects(
    Array.fromAsync(batches),
    /^StacInputError: x\.ndjson:2: Item "new" does not fit the schema: no column holds "properties\.brand_new" \(did the input change after its first read\?\)$/,
  );
});
