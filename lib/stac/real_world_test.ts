/**
 * Items unlike the fixtures, as real catalogs hold them, through
 * stac-geoparquet and back, and read by DuckDB.
 */
import { deepEqual, equal, match, throws } from "node:assert/strict";
import { duck } from "../../tests/_duckdb.ts";
import { itemsFromJsonText, itemsFromNdjson } from "./json_input.ts";
import { writeItemsParquet } from "./geoparquet.ts";
import { readItemsParquet } from "./geoparquet_read.ts";
import { dropNulls, inBatches, memorySink } from "./_testing.ts";

const item = (
  id: string,
  extra: Record<string, unknown> = {},
  properties: Record<string, unknown> = {},
): Record<string, unknown> => ({
  type: "Feature",
  stac_version: "1.0.0",
  id,
  geometry: { type: "Point", coordinates: [1, 2] },
  bbox: [1, 2, 1, 2],
  properties: { datetime: "2020-01-01T00:00:00Z", ...properties },
  links: [],
  assets: { data: { href: `s3://b/${id}.tif` } },
  ...extra,
});

const FRACTIONS = ["1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789"];

/** Named lists of items, each unlike NAIP in one way. */
const CASES: Record<string, Record<string, unknown>[]> = {
  "null geometry without bbox": [item("a", { geometry: null, bbox: undefined })],
  "null bbox": [item("a", { geometry: null, bbox: null }), item("b")],
  "3D bbox, then a 2D one": [
    item("a", { bbox: [1, 2, 3, 4, 5, 6], geometry: { type: "Point", coordinates: [1, 2, 3] } }),
    item("b"),
  ],
  "antimeridian bbox": [item("a", { bbox: [170, -10, -170, 10] })],
  "MultiPolygon and GeometryCollection": [
    item("a", {
      geometry: {
        type: "MultiPolygon",
        coordinates: [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[2, 2], [3, 2], [3, 3], [2, 2]]]],
      },
    }),
    item("b", {
      geometry: {
        type: "GeometryCollection",
        geometries: [{ type: "Point", coordinates: [1, 2] }, {
          type: "LineString",
          coordinates: [[0, 0], [1, 1]],
        }],
      },
    }),
    item("c", { geometry: { type: "GeometryCollection", geometries: [] } }),
  ],
  "no assets, empty assets, assets without type or roles": [
    item("a", { assets: undefined }),
    item("b", { assets: {} }),
    item("c", {
      assets: { "a.b": { href: "x" }, "with space": { href: "y" }, "ü日本": { href: "z" } },
    }),
  ],
  "property names with : and .": [item("a", {}, { "eo:cloud_cover": 1.5, "a.b": 2, "c:d.e": "x" })],
  "datetime null with a range": [
    item("a", {}, {
      datetime: null,
      start_datetime: "2020-01-01T00:00:00Z",
      end_datetime: "2020-01-02T00:00:00Z",
    }),
  ],
  "datetimes with offsets": [
    item("a", {}, { datetime: "2020-01-01T00:00:00+02:00" }),
    item("b", {}, { datetime: "2020-01-01T00:00:00+00:00" }),
    item("c"),
  ],
  "fractional seconds of 1 to 9 digits": FRACTIONS.map((f, i) =>
    item(`f${i}`, {}, { datetime: `2020-01-01T00:00:00.${f}Z` })
  ),
  "dates before 1970 and after 2262": [
    item("a", {}, { datetime: "1900-01-01T00:00:00Z" }),
    item("b", {}, { datetime: "0001-01-01T00:00:00Z" }),
    item("c", {}, { datetime: "2300-01-01T00:00:00Z" }),
    item("d", {}, { datetime: "9999-12-31T23:59:59.999999Z" }),
  ],
  "int then float, float then int, huge integers": [
    item("a", {}, { n: 1, m: 1.5, big: 2 ** 60 }),
    item("b", {}, { n: 1.5, m: 1, big: 1 }),
  ],
  "mixed arrays, nested objects, object then string": [
    item("a", {}, { arr: [1, "a", null, true, { x: 1 }], o: { a: { b: { c: [1, 2] } } }, s: {} }),
    item("b", {}, { o: "text", s: "" }),
  ],
  "unicode id and a long string": [item("日本-é-😀", {}, { s: "x".repeat(100_000) })],
  "no links, no stac_extensions, foreign members, no collection": [
    item("a", { links: undefined, stac_extensions: undefined, foo: { bar: 1 }, "x:y": [1] }),
    item("b", { collection: "c" }),
  ],
  "property names of core columns": [item("a", {}, { type: "x", id: "y", collection: 3 })],
  "lists and objects nested 100 deep": [
    item("a", {}, {
      list: JSON.parse("[".repeat(100) + "1" + "]".repeat(100)),
      object: JSON.parse('{"a":'.repeat(100) + "1" + "}".repeat(100)),
    }),
  ],
};

for (const [name, items] of Object.entries(CASES)) {
  Deno.test(`stac-geoparquet round trip: ${name}`, async () => {
    const text = JSON.stringify(items);
    for (const size of [1, 100]) {
      const { sink, bytes } = memorySink();
      await writeItemsParquet(inBatches(itemsFromJsonText(text), size), sink);
      const back = (await Array.fromAsync(readItemsParquet(bytes()))).flat();
      deepEqual(dropNulls(back), dropNulls(JSON.parse(text)), `batch size ${size}`);
    }
  });
}

async function parquetFile(items: Record<string, unknown>[]): Promise<string> {
  const { sink, bytes } = memorySink();
  await writeItemsParquet(inBatches(itemsFromJsonText(JSON.stringify(items)), 1000), sink);
  const path = await Deno.makeTempFile({ suffix: ".parquet" });
  await Deno.writeFile(path, bytes());
  return path;
}

Deno.test("writeItemsParquet(): datetimes with offsets, odd fractions and far years are UTC timestamps for DuckDB", async () => {
  const texts = [
    "2020-01-01T02:00:00+02:00",
    "2020-01-01T00:00:00.1Z",
    "2020-01-01T00:00:00.123456789Z",
    "2020-01-01t00:00:00z",
    "1600-01-01T00:00:00Z",
    "2300-06-01T12:00:00Z",
  ];
  const path = await parquetFile(texts.map((t, i) => item(`i${i}`, {}, { datetime: t })));
  try {
    const [type] = await duck(
      `SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}')) WHERE column_name = 'datetime'`,
    );
    equal(type!.column_type, "TIMESTAMP WITH TIME ZONE");
    const rows = await duck(
      `SELECT id, strftime(datetime AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS t FROM read_parquet('${path}') ORDER BY id`,
    );
    deepEqual(rows.map((r) => r.t), [
      "2020-01-01T00:00:00.000000Z",
      "2020-01-01T00:00:00.100000Z",
      "2020-01-01T00:00:00.123456Z",
      "2020-01-01T00:00:00.000000Z",
      "1600-01-01T00:00:00.000000Z",
      "2300-06-01T12:00:00.000000Z",
    ]);
    // ferry gives back the exact texts.
    const back = (await Array.fromAsync(readItemsParquet(path))).flat();
    deepEqual(back.map((i) => i.properties.datetime), texts);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeItemsParquet(): an antimeridian-crossing bbox widens the file bbox to every longitude", async () => {
  const path = await parquetFile([item("a", { bbox: [170, -10, -170, 10] }), item("b")]);
  try {
    const [row] = await duck(
      `SELECT decode(value) AS geo FROM parquet_kv_metadata('${path}') WHERE decode(key) = 'geo'`,
    );
    deepEqual(JSON.parse(String(row!.geo)).columns.geometry.bbox, [-180, -10, 180, 10]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("validateItem(): a null bbox is as good as none", () => {
  const [a] = itemsFromJsonText(JSON.stringify(item("a", { geometry: null, bbox: null })));
  equal(a!.bbox, null);
  throws(
    () => itemsFromJsonText(JSON.stringify(item("a", { bbox: "1,2,3,4" }))),
    /^SyntaxError: stdin: Item "a": "bbox" is not an array$|"bbox" is not an array/,
  );
});

Deno.test("itemsFromNdjson(): a line holding an array says so", async () => {
  const line = JSON.stringify([item("a")]);
  await Array.fromAsync(itemsFromNdjson(new Blob([line + "\n"]).stream(), { source: "f.ndjson" }))
    .then(
      () => {
        throw new Error("no error");
      },
      (error: Error) =>
        match(error.message, /^f\.ndjson:1: Item is a JSON array, not an object \(/),
    );
});

Deno.test("readItemsParquet() reads DECIMAL and DATE columns of a DuckDB-written file as numbers and dates", async () => {
  const path = await Deno.makeTempFile({ suffix: ".parquet" });
  try {
    await duck(`COPY (SELECT 'Feature' AS type, '1.0.0' AS stac_version, 'a' || i AS id,
      {'xmin': -1.5, 'ymin': 2.0, 'xmax': 3.25, 'ymax': 4.0} AS bbox,
      CASE WHEN i = 0 THEN -12.34 ELSE 5.00 END::DECIMAL(10, 2) AS cost,
      CASE WHEN i = 0 THEN NULL ELSE 123456789.0123456789 END::DECIMAL(38, 10) AS wide,
      DATE '1969-07-20' + i::INTEGER AS day
      FROM range(2) t(i)) TO '${path}' (FORMAT parquet)`);
    const items = (await Array.fromAsync(readItemsParquet(path))).flat();
    deepEqual(items.map((i) => [i.bbox, i.properties]), [
      [[-1.5, 2, 3.25, 4], { cost: -12.34, day: "1969-07-20" }],
      [[-1.5, 2, 3.25, 4], { cost: 5, wide: 123456789.0123456789, day: "1969-07-21" }],
    ]);
  } finally {
    await Deno.remove(path);
  }
});
