import { deepEqual, equal, notEqual } from "node:assert/strict";
import { ItemShapes } from "./item_shapes.ts";
import { observeItemLine } from "./item_line_shapes.ts";
import { confirmItemLine } from "./item_line_fit.ts";
import { observeNdjsonBlock } from "./ndjson_block_shapes.ts";
import { fixtureItems, ITEM_FIXTURES } from "./_testing.ts";
import type { StacItem } from "./item.ts";

const utf8 = new TextEncoder();

async function allFixtureLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const name of ITEM_FIXTURES) {
    for (const item of await fixtureItems(name)) lines.push(JSON.stringify(item));
  }
  return lines;
}

/** Shapes after `observeItemLine` (or the parsed item where it refuses) over these lines. */
function observedAll(lines: string[]): ItemShapes {
  const shapes = new ItemShapes();
  for (const line of lines) {
    if (!observeItemLine(shapes, utf8.encode(line))) shapes.observe(JSON.parse(line));
  }
  return shapes;
}

Deno.test("confirmItemLine() confirms every fixture line once observed, as observeItemLine takes it", async () => {
  const lines = await allFixtureLines();
  const confirmed = observedAll(lines);
  const observed = observedAll(lines);
  for (const line of lines) {
    const bytes = utf8.encode(`  ${line} \r\nnext`);
    equal(confirmItemLine(confirmed, bytes, 0), bytes.indexOf(0x0a), line.slice(0, 60));
    equal(observeItemLine(observed, utf8.encode(line)), true);
  }
  deepEqual(confirmed.toPlain(), observed.toPlain());
});

Deno.test("confirmItemLine() leaves a line that would change a shape, or that it does not follow, and changes nothing", async () => {
  const naip = (await fixtureItems("naip-pc.json"))[0]!;
  const shapes = observedAll([JSON.stringify(naip)]);
  const before = JSON.stringify(shapes.toPlain());
  const props = naip.properties;
  const variants: (StacItem | string)[] = [
    { ...naip, properties: { ...props, "proj:epsg": 2.5 } },
    { ...naip, properties: { ...props, gsd: "text" } },
    { ...naip, properties: { ...props, late: 1 } },
    { ...naip, properties: { ...props, id: "reserved" } },
    { ...naip, properties: { ...props, datetime: "2020-01-01T00:00:00\u00e9" } },
    { ...naip, assets: { ...naip.assets, extra: { href: "x" } } },
    { ...naip, links: [{ rel: "r", href: "h", method: "GET" }] },
    { ...naip, bbox: [1, 2, 3] },
    { ...naip, collection: 5 as unknown as string },
    { ...naip, geometry: { type: "Point", coordinates: [1, 2], bbox: [1, 2, 1, 2] } as never },
    { ...naip, id: "" },
    JSON.stringify(naip).replace('"gsd":', '"gsd":1,"gsd":'),
    JSON.stringify(naip).replace('"id":', '"id":"x","id":'),
    JSON.stringify(naip).replace('"properties"', '"propert\\u0069es"'),
    JSON.stringify(naip).replace('"gsd":0.3', '"gsd":0.3.1'),
    JSON.stringify(naip).replace('"naip"', '"na\\xp"'),
    JSON.stringify(naip).replace('"naip"', '"na\tp"'),
    JSON.stringify(naip) + " x",
    JSON.stringify(naip).slice(0, -1),
    "[]",
    "",
  ];
  for (const variant of variants) {
    const line = typeof variant === "string" ? variant : JSON.stringify(variant);
    equal(confirmItemLine(shapes, utf8.encode(line), 0), -1, line.slice(0, 80));
    equal(JSON.stringify(shapes.toPlain()), before);
  }
  notEqual(confirmItemLine(shapes, utf8.encode(JSON.stringify(naip)), 0), -1);
});

Deno.test("observeNdjsonBlock() gives the shapes of observeItemLine alone over lines with varied values", async () => {
  const lines = await allFixtureLines();
  const values: unknown[] = [
    null,
    0,
    -0,
    7,
    2.5,
    1e-7,
    1234567890123456,
    "t",
    "2020-01-01",
    true,
    [],
    {},
    [1],
    { k: 1 },
  ];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const vary = (v: unknown, p: number): unknown => {
    if (Array.isArray(v)) return v.map((x) => vary(x, p));
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, vary(x, p)]));
    }
    return random() < p ? values[Math.floor(random() * values.length)] : v;
  };
  for (let trial = 0; trial < 60; trial++) {
    const base: StacItem = JSON.parse(lines[trial % lines.length]!);
    const block = Array.from({ length: 25 }, (_, k) => {
      const item = vary(base, random() < 0.4 ? 0 : 0.01) as StacItem;
      return JSON.stringify({ ...item, type: "Feature", id: `i${k}`, geometry: base.geometry });
    });
    const result = observeNdjsonBlock(utf8.encode(block.join("\n")), { source: "x", firstLine: 1 });
    deepEqual(result, { shapes: observedAll(block).toPlain(), lines: block.length }, `${trial}`);
  }
});
