import { deepEqual, equal, rejects } from "node:assert/strict";
import * as arrow from "apache-arrow";
import { ItemsEncoder } from "./items_encoder.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import { decodeItemAssets } from "./item_assets_view.ts";
import {
  ipcStreamOfBatch,
  itemsToIpc,
  itemsToRecordBatches,
  readIpcBatches,
  releaseIpcBatch,
  sliceIpcBatch,
} from "./ipc.ts";
import { ndjsonItemChunks, ndjsonLinesOf } from "./json_input.ts";
import type { StacItem } from "./item.ts";
import { StacInputError } from "./item.ts";
import { dropNulls, fixtureItems, ITEM_FIXTURES } from "./_testing.ts";

const item = (i: number, properties: Record<string, unknown> = {}): StacItem => ({
  type: "Feature",
  stac_version: "1.0.0",
  id: `i${i}`,
  geometry: { type: "Point", coordinates: [i, 2] },
  bbox: [i, 2, i, 2],
  properties: { datetime: "2020-01-01T00:00:00Z", n: i, ...properties },
  links: [{ rel: "self", href: `https://x/${i}.json` }],
  assets: { data: { href: `s3://b/${i}.tif`, roles: ["data"] } },
});

async function* chunksOf<T>(items: T[], size: number): AsyncIterable<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

const ndjsonStream = (items: unknown[]) =>
  new Blob([items.map((i) => JSON.stringify(i)).join("\n") + "\n"]).stream();

Deno.test("itemsToRecordBatches() with batchSize widens item 10,001 across the batch boundary", async () => {
  const items = Array.from({ length: 10_001 }, (_, i) => item(i));
  // Item 10,001 (the first of the second batch) has a new property, a new
  // asset key and a string where the schema has a number.
  items[10_000] = {
    ...item(10_000, { brand_new: { deep: [1, "two"] }, n: "ten thousand" }),
    assets: { data: { href: "s3://b/x.tif" }, extra: { href: "https://h/e.tif", "file:size": 5 } },
  };
  const { schema, batches } = await itemsToRecordBatches(chunksOf(items, 777), {
    batchSize: 10_000,
  });
  const records = await Array.fromAsync(batches);
  deepEqual(records.map((b) => b.numRows), [10_000, 1]);
  equal(schema.fields.some((f) => f.name === "brand_new"), false);
  const back = records.flatMap((b) => decodeItemsBatch(b));
  deepEqual(dropNulls(back), dropNulls(items));
  // The lock view of the last row sees the asset that only the overflow holds.
  const lockView = decodeItemAssets(records[1]!)[0]!;
  equal(lockView.id, "i10000");
  deepEqual(lockView.assets, {
    data: { href: "s3://b/x.tif" },
    extra: { href: "https://h/e.tif", "file:size": 5 },
  });
});

Deno.test("itemsToIpc() with batchSize regroups NDJSON chunks held as lines, and every fixture round-trips", async () => {
  for (const name of ITEM_FIXTURES) {
    const items = await fixtureItems(name);
    const many = Array.from({ length: 7 }, () => items).flat();
    const stream = itemsToIpc(ndjsonItemChunks(ndjsonStream(many)), { batchSize: 3 });
    const { batches } = await readIpcBatches(stream);
    const records = await Array.fromAsync(batches);
    equal(records.reduce((n, b) => n + b.numRows, 0), many.length, name);
    for (const b of records.slice(0, -1)) equal(b.numRows, 3, name);
    deepEqual(dropNulls(records.flatMap((b) => decodeItemsBatch(b))), dropNulls(many), name);
  }
});

Deno.test("ndjsonLinesOf() gives the line of each kept item, filters applied", async () => {
  const items = [item(1), item(2), item(3)];
  const chunks = await Array.fromAsync(
    ndjsonItemChunks(ndjsonStream(items), { filters: { itemIds: ["i1", "i3"] } }),
  );
  const lines = chunks.flatMap((c) => ndjsonLinesOf(c)!);
  deepEqual(lines.map((l) => JSON.parse(l).id), ["i1", "i3"]);
  deepEqual(chunks.flat().map((i) => i.id), ["i1", "i3"]);
  equal(ndjsonLinesOf([item(1)]), undefined);
});

Deno.test("ItemsEncoder: datetimes keep their exact text, odd ones go to the overflow", () => {
  const texts = [
    "2020-02-29T23:59:59Z",
    "2021-02-29T00:00:00Z", // no such day: not a timestamp, kept as text
    "2020-01-01T00:00:00.5Z",
    "2020-01-01T00:00:00.123456Z",
    "2020-01-01T00:00:00.123000Z",
    "2020-01-01T00:00:00.000000Z",
    "2020-01-01T00:00:00.123Z",
    "2020-01-01T24:00:00Z",
    "2020-13-01T00:00:00Z",
    "0999-01-01T00:00:00Z",
    "0050-01-01T00:00:00Z",
    "2020-01-01 00:00:00Z",
    "2020-01-01T00:00:60Z",
    "2020-01-01T00:00:00.1234567Z",
  ];
  for (
    const first of [
      "2020-01-01T00:00:00Z",
      "2020-01-01T00:00:00.100Z",
      "2020-01-01T00:00:00.100000Z",
    ]
  ) {
    const items = [
      item(0, { datetime: first }),
      ...texts.map((t, i) => item(i + 1, { datetime: t })),
    ];
    // Schema from the first item only: every other text is checked against its format.
    const encoder = ItemsEncoder.infer(items.slice(0, 1));
    const batch = encoder.encode(items);
    deepEqual(decodeItemsBatch(batch).map((i) => i.properties.datetime), [first, ...texts], first);
  }
});

Deno.test("readIpcBatches() hands on each batch's own stream bytes and names a broken stream", async () => {
  const items = Array.from({ length: 5 }, (_, i) => item(i));
  const bytes = new Uint8Array(
    await new Response(itemsToIpc(chunksOf(items, 2))).arrayBuffer(),
  );
  const { schema, batches } = await readIpcBatches(new Blob([bytes]).stream());
  const records = await Array.fromAsync(batches);
  deepEqual(records.map((b) => b.numRows), [2, 2, 1]);
  const own = ipcStreamOfBatch(records[1]!, schema)!;
  deepEqual(decodeItemsBatch(arrow.tableFromIPC(own).batches[0]!).map((i) => i.id), ["i2", "i3"]);
  equal(ipcStreamOfBatch(records[1]!, new arrow.Schema([])), undefined);

  const truncated = bytes.subarray(0, bytes.byteLength - 100);
  const broken = await readIpcBatches(new Blob([truncated]).stream(), { source: "pipe" });
  await rejects(Array.fromAsync(broken.batches), (error: unknown) => {
    equal(error instanceof StacInputError, true);
    equal(
      /^pipe row 5: Broken Arrow IPC stream \(truncated message body\)$/.test(
        (error as Error).message,
      ),
      true,
      (error as Error).message,
    );
    return true;
  });
  await rejects(
    readIpcBatches(new Blob(["not arrow at all, just text"]).stream(), { source: "pipe" }),
    /Not an Arrow IPC stream/,
  );
  await rejects(readIpcBatches(new Blob([]).stream()), /Empty input/);
});

Deno.test("sliceIpcBatch() slices share the batch's memory, released with the last slice", async () => {
  const items = Array.from({ length: 5 }, (_, i) => item(i));
  const { schema, batches } = await readIpcBatches(itemsToIpc(chunksOf(items, 5)));
  const [batch] = await Array.fromAsync(batches);
  equal(ipcStreamOfBatch(batch!, schema) !== undefined, true);
  const slices = sliceIpcBatch(batch!, 2);
  deepEqual(slices.map((s) => s.numRows), [2, 2, 1]);
  equal(ipcStreamOfBatch(slices[0]!, schema), undefined);
  deepEqual(slices.flatMap((s) => decodeItemsBatch(s).map((i) => i.id)), [
    "i0",
    "i1",
    "i2",
    "i3",
    "i4",
  ]);
  deepEqual(slices.map((s) => releaseIpcBatch(s)), [false, false, true]);
  equal(releaseIpcBatch(slices[0]!), false);
});

Deno.test("decodeItemsBatch() and decodeItemAssets() read slices of a batch", async () => {
  const items = await fixtureItems("sentinel-2-l2a-pc.json");
  const many = Array.from({ length: 3 }, () => items).flat()
    .map((item, i) => ({ ...item, properties: { ...item.properties, flag: i % 3 === 0 } }));
  const batch = ItemsEncoder.infer(many).encode(many);
  const cut = Math.floor(many.length / 2) + 1;
  for (const [start, end] of [[0, cut], [cut, many.length], [1, 2]] as const) {
    const slice = batch.slice(start, end);
    deepEqual(dropNulls(decodeItemsBatch(slice)), dropNulls(many.slice(start, end)));
    deepEqual(
      decodeItemAssets(slice).map((r) => r.id),
      many.slice(start, end).map((i) => i.id),
    );
  }
});
