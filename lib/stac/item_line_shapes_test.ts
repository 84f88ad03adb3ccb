import { deepEqual, equal } from "node:assert/strict";
import type * as arrow from "apache-arrow";
import { ItemsSchemaInference } from "./items_encoder.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import { OVERFLOW_COLUMN } from "./item_layout.ts";
import { dropNulls, fixtureItems, ITEM_FIXTURES } from "./_testing.ts";
import type { StacItem } from "./item.ts";

const utf8 = new TextEncoder();

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

/** Odd but valid items: each must give the same schema read from bytes as parsed. */
const ODD_ITEMS: StacItem[] = [
  base("foreign", {}, { foreign: { member: true } }),
  base("reserved", { id: "x", type: "y", links: 1, "ferry:overflow": 2 }),
  base("geometry-bbox", {}, {
    geometry: { type: "Point", coordinates: [1, 2], bbox: [1, 2, 1, 2] },
  }),
  base("collection-geometry", {}, {
    geometry: { type: "GeometryCollection", geometries: [{ type: "Point", coordinates: [1, 2] }] },
  }),
  base("mixed-dims", {}, { geometry: { type: "LineString", coordinates: [[0, 0], [1, 1, 1]] } }),
  base("empty-point", {}, { geometry: { type: "Point", coordinates: [] } }),
  base("bbox-5", {}, { bbox: [0, 0, 0, 1, 1] }),
  base("bbox-3d", {}, { bbox: [0, 0, 0, 1, 1, 1] }),
  base("bbox-text", {}, { bbox: [0, "0", 1, 1] }),
  base("bbox-null", {}, { bbox: null }),
  base("collection-number", {}, { collection: 5 }),
  base("version-null", {}, { stac_version: null }),
  base("escaped", { "k\u00e9y": 1, "tab\tkey": "v", 'quote"key': [1] }),
  base("datetimes", {
    datetime: "2020-01-01T00:00:00+01:00",
    created: "2020-01-01T00:00:00.5Z",
    updated: 5,
    expires: null,
  }),
  base("mixed", { list: [1, "two", { three: 3 }], n: 1.0, m: -0, big: 1e300, empty: {}, none: [] }),
  base("deep", {
    deep: JSON.parse("[".repeat(40) + "1" + "]".repeat(40)),
    deepObject: JSON.parse('{"a":'.repeat(40) + "1" + "}".repeat(40)),
  }),
  base("links", {}, {
    links: [{ href: "h", rel: "r", method: "GET", body: { a: 1 } }, { rel: "x", href: "y" }],
  }),
  base("assets", {}, {
    assets: { other: { href: "o", "file:size": 5 }, data: { href: "d", title: 7 } },
  }),
  base("no-links", {}, { links: undefined, assets: undefined }),
];

function schemaText(schema: arrow.Schema): string[] {
  return schema.fields.map((f) => `${f.name}: ${f.type} ${JSON.stringify([...f.metadata])}`);
}

/** The schema from bytes (parsing only the lines the byte reader leaves), and from parsed items. */
function bothWays(lines: string[]): { bytes: string[]; parsed: string[]; fromBytes: number } {
  const fromBytes = new ItemsSchemaInference();
  const fromParsed = new ItemsSchemaInference();
  let read = 0;
  for (const line of lines) {
    if (fromBytes.observeJsonLine(utf8.encode(line))) read++;
    else fromBytes.observe(JSON.parse(line));
    fromParsed.observe(JSON.parse(line));
  }
  return {
    bytes: schemaText(fromBytes.encoder({ complete: true }).schema),
    parsed: schemaText(fromParsed.encoder({ complete: true }).schema),
    fromBytes: read,
  };
}

Deno.test("ItemsSchemaInference.observeJsonLine() reads every fixture line from its bytes, same schema as parsed", async () => {
  for (const name of ITEM_FIXTURES) {
    const lines = (await fixtureItems(name)).map((item) => JSON.stringify(item));
    const { bytes, parsed, fromBytes } = bothWays(lines);
    deepEqual(bytes, parsed, name);
    equal(fromBytes, lines.length, name);
    equal(parsed.some((f) => f.startsWith(`${OVERFLOW_COLUMN}:`)), false, name);
  }
});

Deno.test("ItemsSchemaInference.observeJsonLine() gives the parsed schema for odd items, alone and after others", async () => {
  const naip = (await fixtureItems("naip-pc.json")).map((item) => JSON.stringify(item));
  for (const odd of ODD_ITEMS) {
    const line = JSON.stringify(odd);
    const pretty = JSON.stringify(odd, null, 1).replaceAll("\n", " ");
    for (const lines of [[line], [...naip, line, ...naip], [pretty, line]]) {
      const { bytes, parsed } = bothWays(lines);
      deepEqual(bytes, parsed, odd.id);
    }
  }
  const needsOverflow = ODD_ITEMS.filter((odd) =>
    bothWays([JSON.stringify(odd)]).parsed.some((f) => f.startsWith(`${OVERFLOW_COLUMN}:`))
  ).map((odd) => odd.id);
  deepEqual(needsOverflow, [
    "foreign",
    "reserved",
    "geometry-bbox",
    "mixed-dims",
    "empty-point",
    "bbox-5",
    "bbox-text",
    "collection-number",
    "datetimes",
  ]);
});

Deno.test("ItemsSchemaInference.observeJsonLine() leaves duplicate keys, escaped top-level keys and bad JSON to the parser", () => {
  const inference = new ItemsSchemaInference();
  const item = '"type":"Feature","id":"a","geometry":null';
  for (
    const line of [
      `{${item},"properties":{"n":1,"n":"x"}}`,
      `{${item},"properties":{},"id":"b"}`,
      `{${item},"propert\\u0069es":{}}`,
      `{${item},"properties":{"n":[1,,2]}}`,
      `{${item},"properties":{"n":"bad \\x escape"}}`,
      `{${item},"properties":{}} trailing`,
      `{${item},"properties":{"n":01}}`,
      `{${item}}`,
    ]
  ) equal(inference.observeJsonLine(utf8.encode(line)), false, line);
  equal(inference.observeJsonLine(utf8.encode(`{${item},"properties":{"n":1}}`)), true);
});

Deno.test("ItemsEncoder from a complete inference holds every item without an overflow column, and round-trips", async () => {
  const items = [
    ...await fixtureItems("naip-pc.json"),
    ...await fixtureItems("sentinel-2-l2a-pc.json"),
    base("late", { brand_new: { deep: [1, "two"] }, gsd: "not a number" }, {
      assets: { extra: { href: "https://h/e.tif", "file:size": 5 } },
    }),
  ];
  const inference = new ItemsSchemaInference();
  for (const item of items) {
    equal(inference.observeJsonLine(utf8.encode(JSON.stringify(item))), true);
  }
  const encoder = inference.encoder({ complete: true });
  const names = encoder.schema.fields.map((f) => f.name);
  equal(names.includes(OVERFLOW_COLUMN), false);
  equal(names.includes("brand_new"), true);
  const back = decodeItemsBatch(encoder.encode(items));
  deepEqual(dropNulls(back), dropNulls(items));
});
