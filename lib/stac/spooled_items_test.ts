import { deepEqual, equal } from "node:assert/strict";
import { type ByteSpool, itemsToRecordBatchesThroughSpool } from "./spooled_items.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import type { StacItem } from "./item.ts";
import { dropNulls, fixtureItems, inBatches } from "./_testing.ts";

/** A spool in memory that counts its reads. */
function memorySpool(): ByteSpool & { reads: number } {
  const chunks: Uint8Array[] = [];
  const spool = {
    reads: 0,
    writable: new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) }),
    readable: () => {
      spool.reads++;
      return new Blob(chunks as Uint8Array<ArrayBuffer>[]).stream();
    },
  };
  return spool;
}

async function through(items: StacItem[], size: number) {
  const spool = memorySpool();
  const { schema, batches } = await itemsToRecordBatchesThroughSpool(inBatches(items, size), spool);
  const records = await Array.fromAsync(batches);
  return {
    names: schema.fields.map((f) => f.name),
    items: records.flatMap((b) => decodeItemsBatch(b)),
    rows: records.map((b) => b.numRows),
    reads: spool.reads,
  };
}

Deno.test("itemsToRecordBatchesThroughSpool() drops the overflow column when nothing overflowed (one read)", async () => {
  const items = await fixtureItems("naip-pc.json");
  const out = await through(items, 3);
  equal(out.names.includes("ferry:overflow"), false);
  equal(out.reads, 1);
  deepEqual(out.rows, [3, 1]);
  deepEqual(dropNulls(out.items), dropNulls(items));
});

Deno.test("itemsToRecordBatchesThroughSpool() encodes again with every late key a column when something overflowed", async () => {
  const items = await fixtureItems("naip-pc.json");
  const late = items.map((item, i) =>
    i < 2 ? item : {
      ...item,
      properties: { ...item.properties, late: i },
      assets: { ...item.assets, extra: { href: `s3://b/${i}.tif`, "file:size": i } },
    }
  );
  const out = await through(late, 2);
  equal(out.names.includes("ferry:overflow"), false);
  equal(out.names.includes("late"), true);
  equal(out.reads, 2);
  deepEqual(dropNulls(out.items), dropNulls(late));
  const foreign = [...late, { ...late[0]!, id: "f", foreign: { a: 1 } }];
  const kept = await through(foreign, 2);
  equal(kept.names.at(-1), "ferry:overflow");
  deepEqual(dropNulls(kept.items), dropNulls(foreign));
});
