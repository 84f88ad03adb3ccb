import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { filterItems, itemsFromJson, itemsFromJsonText, itemsFromNdjson } from "./json_input.ts";
import { StacInputError, type StacItem } from "./item.ts";
import { fixtureItems } from "./_testing.ts";

const item = (id: string, extra: Partial<StacItem> = {}): StacItem => ({
  type: "Feature",
  stac_version: "1.0.0",
  id,
  geometry: { type: "Point", coordinates: [0, 0] },
  properties: {},
  links: [],
  assets: {},
  ...extra,
});
const streamOf = (text: string) => new Blob([text]).stream();

Deno.test("itemsFromJsonText() accepts a Feature, FeatureCollection, ItemCollection and an array", () => {
  equal(itemsFromJsonText(JSON.stringify(item("a"))).length, 1);
  for (const type of ["FeatureCollection", "ItemCollection"]) {
    const text = JSON.stringify({ type, features: [item("a"), item("b")] });
    deepEqual(itemsFromJsonText(text).map((i) => i.id), ["a", "b"]);
  }
  deepEqual(itemsFromJsonText(JSON.stringify([item("a")])).map((i) => i.id), ["a"]);
});

Deno.test("itemsFromJsonText() names the file and line of malformed JSON", () => {
  throws(
    () => itemsFromJsonText('[\n{"type": "Feature",\n "id": }\n]', { source: "bad.json" }),
    (e) => {
      equal(e instanceof StacInputError, true);
      equal((e as Error).message.split("\n").length, 1);
      equal(
        (e as Error).message.startsWith("bad.json:3: Invalid JSON"),
        true,
        (e as Error).message,
      );
      return true;
    },
  );
});

Deno.test("itemsFromJsonText() rejects a Collection and other JSON values clearly", () => {
  throws(
    () => itemsFromJsonText(JSON.stringify({ type: "Collection", id: "c" }), { source: "c.json" }),
    {
      message:
        'c.json: Expected a STAC Item (Feature), FeatureCollection, ItemCollection or array of Items, got type "Collection"',
    },
  );
  throws(() => itemsFromJsonText("42", { source: "n.json" }), {
    message: /^n\.json: Expected .* got number$/,
  });
  throws(() => itemsFromJsonText("", { source: "e.json" }), { message: /^e\.json: Invalid JSON/ });
});

Deno.test("itemsFromJsonText() names the item without id or with an unknown geometry type", () => {
  const noId: Record<string, unknown> = { ...item("a") };
  delete noId.id;
  throws(() => itemsFromJsonText(JSON.stringify([item("x"), noId]), { source: "f.json" }), {
    message: 'f.json row 2: Item has no "id"',
  });
  const blob = item("g", { geometry: { type: "Blob", coordinates: [] } as never });
  throws(() => itemsFromJsonText(JSON.stringify(blob), { source: "g.json" }), {
    message: 'g.json: Item "g": geometry has unknown type "Blob"',
  });
});

Deno.test("itemsFromNdjson() skips blank lines, batches, and names a broken line", async () => {
  const text = [item("a"), item("b"), item("c")].map((i) => JSON.stringify(i)).join("\n\n") + "\n";
  const batches = await Array.fromAsync(itemsFromNdjson(streamOf(text), { batchSize: 2 }));
  deepEqual(batches.map((b) => b.map((i) => i.id)), [["a", "b"], ["c"]]);
  const broken = `${JSON.stringify(item("a"))}\n\n{"type": "Feature", "id": "b"\n`;
  await rejects(Array.fromAsync(itemsFromNdjson(streamOf(broken), { source: "x.ndjson" })), (e) => {
    equal((e as Error).message.startsWith("x.ndjson:3: Invalid JSON"), true, (e as Error).message);
    return true;
  });
  const noId = `${JSON.stringify(item("a"))}\n${JSON.stringify({ ...item("b"), id: undefined })}`;
  await rejects(Array.fromAsync(itemsFromNdjson(streamOf(noId), { source: "y.ndjson" })), {
    message: 'y.ndjson:2: Item has no "id"',
  });
});

Deno.test("itemsFromNdjson() reads a last line without newline and split multi-byte characters", async () => {
  const text = JSON.stringify(item("é€")) + "\n" + JSON.stringify(item("z"));
  const bytes = new TextEncoder().encode(text);
  const chunks = [bytes.subarray(0, 70), bytes.subarray(70, 71), bytes.subarray(71)];
  const stream = new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  deepEqual((await Array.fromAsync(itemsFromNdjson(stream))).flat().map((i) => i.id), ["é€", "z"]);
});

Deno.test("filterItems() matches collections, provider names and ids", async () => {
  const items = [
    item("a", { collection: "c1", properties: { providers: [{ name: "Esri" }, { name: "X" }] } }),
    item("b", { collection: "c2", properties: { providers: [{ name: "Y" }] } }),
    item("c", { collection: "c1" }),
  ];
  deepEqual(filterItems(items, { collections: ["c1"] }).map((i) => i.id), ["a", "c"]);
  deepEqual(filterItems(items, { providers: ["Esri", "Y"] }).map((i) => i.id), ["a", "b"]);
  deepEqual(filterItems(items, { itemIds: ["b", "c"], collections: ["c1"] }).map((i) => i.id), [
    "c",
  ]);
  deepEqual(filterItems(items, {}).length, 3);
  const lulc = await fixtureItems("io-lulc-pc.json");
  const text = JSON.stringify(lulc);
  const kept =
    (await Array.fromAsync(itemsFromJson(streamOf(text), { filters: { providers: ["Esri"] } })))
      .flat();
  equal(
    kept.length,
    lulc.filter((i) => JSON.stringify(i.properties.providers ?? "").includes('"Esri"')).length,
  );
});
