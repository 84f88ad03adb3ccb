import { deepEqual, equal, throws } from "node:assert/strict";
import { addAlternate, promoteAlternate, type PromoteMode, removeAlternate } from "./alternates.ts";
import { ALTERNATE_ASSETS_EXTENSION, indexLockRows, transformItems } from "./enrich.ts";
import { itemsFromIpc, itemsToIpc } from "../stac/ipc.ts";
import type { StacItem } from "../stac/item.ts";
import { dropNulls, fixtureItems, inBatches } from "../stac/_testing.ts";
import { lockRowFor } from "./_testing.ts";

const row = lockRowFor;

async function simpleWithS3(name?: string): Promise<StacItem> {
  const [item] = await fixtureItems("simple-item.json");
  return addAlternate(item!, indexLockRows([row(item!.id, "visual")]), {
    alternateKey: "s3",
    alternateName: name,
  }).item;
}

Deno.test("addAlternate() sets alternate.K.href and alternate:name from the lock, keeping other alternates", async () => {
  const [item] = await fixtureItems("simple-item.json");
  const before = structuredClone(item!);
  const index = indexLockRows([
    row(item!.id, "visual", { store_endpoint_url: "https://s3.example" }),
  ]);
  const { item: out, assets } = addAlternate(item!, index, {
    alternateKey: "s3",
    alternateName: "S3 mirror",
  });
  equal(assets, 1);
  deepEqual(item, before, "input not mutated");
  deepEqual(out.assets.visual!.alternate, {
    s3: {
      href: "s3://bucket/20201211_223832_CS2/visual.tif",
      store_endpoint_url: "https://s3.example",
      "alternate:name": "S3 mirror",
    },
  });
  deepEqual(out.assets.thumbnail, before.assets.thumbnail);
  equal(out.assets.visual!.href, before.assets.visual!.href);
  deepEqual(out.stac_extensions, [ALTERNATE_ASSETS_EXTENSION]);
  const swift = indexLockRows([
    row(item!.id, "visual", {
      store_type: "swift",
      store_container: "c",
      store_endpoint_url: null,
      key: "v.tif",
    }),
  ]);
  const again = addAlternate(out, swift, {
    alternateKey: "swift",
    swiftStorageUrl: "http://127.0.0.1:8080/v1/AUTH_test",
  }).item;
  deepEqual(Object.keys(again.assets.visual!.alternate as object), ["s3", "swift"]);
  deepEqual((again.assets.visual!.alternate as Record<string, unknown>).swift, {
    href: "http://127.0.0.1:8080/v1/AUTH_test/c/v.tif",
  });
  deepEqual(again.stac_extensions, [ALTERNATE_ASSETS_EXTENSION], "no duplicate URI");
  // The same key again replaces the alternate (as stacpkg).
  const replaced = addAlternate(again, index, { alternateKey: "s3" }).item;
  equal(
    "alternate:name" in (replaced.assets.visual!.alternate as Record<string, object>).s3!,
    false,
  );
  throws(() => addAlternate(item!, index, { alternateKey: "" }), /alternate key: it is empty/);
});

Deno.test("removeAlternate() drops the key, an empty alternate and then the URI", async () => {
  const item = await simpleWithS3();
  const two =
    addAlternate(item, indexLockRows([row(item.id, "visual"), row(item.id, "thumbnail")]), {
      alternateKey: "b",
    }).item;
  const one = removeAlternate(two, "s3");
  equal(one.assets, 1);
  deepEqual(Object.keys(one.item.assets.visual!.alternate as object), ["b"]);
  deepEqual(one.item.stac_extensions, [ALTERNATE_ASSETS_EXTENSION], "b still used");
  const none = removeAlternate(one.item, "b");
  equal(none.assets, 2);
  equal("alternate" in none.item.assets.visual!, false);
  equal("alternate" in none.item.assets.thumbnail!, false);
  deepEqual(none.item.stac_extensions, []);
  const [fixture] = await fixtureItems("simple-item.json");
  deepEqual(none.item, fixture, "add then remove gives the fixture back");
  const same = removeAlternate(none.item, "b");
  equal(same.item, none.item);
  equal(same.assets, 0);
});

Deno.test("removeAlternate() keeps the URI while an asset still has alternate:name", async () => {
  const item = await simpleWithS3();
  const promoted = promoteAlternate(item, { alternateKey: "s3", mode: "switch" }).item;
  const removed = removeAlternate(promoted, "s3").item;
  equal("alternate" in removed.assets.visual!, false);
  equal(removed.assets.visual!["alternate:name"], "s3");
  deepEqual(removed.stac_extensions, [ALTERNATE_ASSETS_EXTENSION]);
});

Deno.test("promoteAlternate() replace makes the alternate href primary and names the asset K", async () => {
  const item = await simpleWithS3("S3 mirror");
  const original = item.assets.visual!.href;
  const { item: out, assets } = promoteAlternate(item, { alternateKey: "s3", mode: "replace" });
  equal(assets, 1);
  equal(out.assets.visual!.href, "s3://bucket/20201211_223832_CS2/visual.tif");
  equal(out.assets.visual!["alternate:name"], "s3");
  deepEqual(out.assets.visual!.alternate, item.assets.visual!.alternate, "alternate kept");
  deepEqual(out.assets.thumbnail, item.assets.thumbnail);
  equal(item.assets.visual!.href, original, "input not mutated");
  const dropped = promoteAlternate(item, { alternateKey: "s3", dropAlternates: true }).item;
  equal("alternate" in dropped.assets.visual!, false);
  equal(dropped.assets.visual!.href, "s3://bucket/20201211_223832_CS2/visual.tif");
  deepEqual(dropped.stac_extensions, [ALTERNATE_ASSETS_EXTENSION]);
});

Deno.test("promoteAlternate() switch puts the old href under K with alternate:name N", async () => {
  const item = await simpleWithS3();
  const original = item.assets.visual!.href;
  const { item: out } = promoteAlternate(item, { alternateKey: "s3", mode: "switch" });
  deepEqual(out.assets.visual, {
    ...item.assets.visual,
    href: "s3://bucket/20201211_223832_CS2/visual.tif",
    "alternate:name": "s3",
    alternate: { s3: { href: original, "alternate:name": "original" } },
  });
  const named = promoteAlternate(item, {
    alternateKey: "s3",
    mode: "switch",
    switchedAlternateName: "https",
  }).item;
  equal(
    (named.assets.visual!.alternate as Record<string, Record<string, string>>)
      .s3!["alternate:name"],
    "https",
  );
  const back = promoteAlternate(out, { alternateKey: "s3", mode: "switch" }).item;
  equal(back.assets.visual!.href, original, "switching twice swaps the hrefs back");
  equal(
    (back.assets.visual!.alternate as Record<string, Record<string, string>>).s3!.href,
    "s3://bucket/20201211_223832_CS2/visual.tif",
  );
});

Deno.test("promoteAlternate() moves store_endpoint_url with the hrefs", async () => {
  const [fixture] = await fixtureItems("simple-item.json");
  const item = addAlternate(
    fixture!,
    indexLockRows([row(fixture!.id, "visual", { store_endpoint_url: "https://s3.example" })]),
    { alternateKey: "s3" },
  ).item;
  const switched = promoteAlternate(item, { alternateKey: "s3", mode: "switch" }).item;
  equal(switched.assets.visual!.store_endpoint_url, "https://s3.example");
  deepEqual(Object.keys((switched.assets.visual!.alternate as Record<string, object>).s3!), [
    "href",
    "alternate:name",
  ]);
  const back = promoteAlternate(switched, { alternateKey: "s3", mode: "switch" }).item;
  equal("store_endpoint_url" in back.assets.visual!, false);
  equal(
    (back.assets.visual!.alternate as Record<string, Record<string, string>>).s3!
      .store_endpoint_url,
    "https://s3.example",
  );
});

Deno.test("promoteAlternate() rejects a bad mode, an empty key and drop in switch mode", async () => {
  const item = await simpleWithS3();
  throws(
    () => promoteAlternate(item, { alternateKey: "s3", mode: "swap" as PromoteMode }),
    (e) => e instanceof RangeError && /Invalid promotion mode "swap"/.test(e.message),
  );
  throws(() => promoteAlternate(item, { alternateKey: "" }), TypeError);
  throws(
    () => promoteAlternate(item, { alternateKey: "s3", mode: "switch", dropAlternates: true }),
    /only possible in replace mode/,
  );
  const missing = promoteAlternate(item, { alternateKey: "nope", mode: "switch" });
  equal(missing.item, item);
});

Deno.test("alternates: add, promote and remove results survive an Arrow IPC round trip", async () => {
  const items = await fixtureItems("naip-pc.json");
  const index = indexLockRows(items.map((i) => row(i.id, "image")));
  for (
    const step of [
      (i: StacItem) => addAlternate(i, index, { alternateKey: "s3", alternateName: "S3" }),
      (i: StacItem) => promoteAlternate(i, { alternateKey: "s3", mode: "switch" }),
      (i: StacItem) => removeAlternate(i, "s3"),
    ]
  ) {
    const out = (await Array.fromAsync(transformItems(inBatches(items, 3), step))).flat();
    const back = (await Array.fromAsync(itemsFromIpc(itemsToIpc(inBatches(out, 3))))).flat();
    deepEqual(dropNulls(back), dropNulls(out));
    items.splice(0, items.length, ...back);
  }
  equal(items[0]!.assets.image!.href, `s3://bucket/${items[0]!.id}/image.tif`);
  equal(items[0]!.assets.image!["alternate:name"], "s3");
  equal("alternate" in items[0]!.assets.image!, false);
});
