import { deepEqual, equal, notEqual, throws } from "node:assert/strict";
import type { LockRow } from "./schema.ts";
import {
  ALTERNATE_ASSETS_EXTENSION,
  enrichItem,
  FILE_EXTENSION,
  indexLockRows,
  lockRowHref,
  newTransformStats,
  transformItems,
  withExtension,
} from "./enrich.ts";
import { itemsFromIpc, itemsToIpc } from "../stac/ipc.ts";
import { dropNulls, fixtureItems, inBatches } from "../stac/_testing.ts";
import { lockRowFor } from "./_testing.ts";

const row = (itemId: string, assetKey: string, over: Partial<LockRow> = {}): LockRow =>
  lockRowFor(itemId, assetKey, { size_bytes: 100, checksum: "1220" + "ab".repeat(32), ...over });

Deno.test("indexLockRows() keeps the last row of an (item_id, asset_key) pair", () => {
  const index = indexLockRows([row("a", "x", { key: "1" }), row("a", "x", { key: "2" })]);
  equal(index.get("a")?.get("x")?.key, "2");
  equal(index.get("a")?.size, 1);
});

Deno.test("lockRowHref() writes full https URLs for Swift and short forms elsewhere", () => {
  equal(lockRowHref(row("a", "x")), "s3://bucket/a/x.tif");
  equal(
    lockRowHref(row("a", "x", { store_type: "s3", store_endpoint_url: "https://s3.example" })),
    "s3://bucket/a/x.tif",
  );
  const swift = row("a", "x", {
    store_type: "swift",
    store_container: "my container",
    store_endpoint_url: "http://127.0.0.1:8080/v1/AUTH_test/",
    key: "dir/a b#.tif",
  });
  equal(lockRowHref(swift), "http://127.0.0.1:8080/v1/AUTH_test/my%20container/dir/a%20b%23.tif");
  const bare = { ...swift, store_endpoint_url: null };
  equal(
    lockRowHref(bare, { swiftStorageUrl: "https://swift.example/v1/AUTH_x" }),
    "https://swift.example/v1/AUTH_x/my%20container/dir/a%20b%23.tif",
  );
  throws(() => lockRowHref(bare), /no store_endpoint_url.*storage URL/);
  equal(
    lockRowHref(row("a", "x", { store_type: "file", store_container: null, key: "/d/a.tif" })),
    "file:///d/a.tif",
  );
  equal(
    lockRowHref(row("a", "x", { store_type: "file", store_container: null, key: "assets/a.tif" })),
    "assets/a.tif",
  );
  equal(
    lockRowHref(
      row("a", "x", { store_type: "https", store_container: "https://h", key: "p/a.tif" }),
    ),
    "https://h/p/a.tif",
  );
});

Deno.test("withExtension() appends once and drops non-strings", () => {
  deepEqual(withExtension(undefined, "u"), ["u"]);
  deepEqual(withExtension(["u", 1], "u"), ["u"]);
});

Deno.test("enrichItem() sets file:size, file:checksum and the File Info URI on matched assets only", async () => {
  const [item] = await fixtureItems("naip-pc.json");
  const before = structuredClone(item!);
  const index = indexLockRows([
    row(item!.id, "image", { size_bytes: 12345 }),
    row(item!.id, "thumbnail", { size_bytes: 7, checksum: null }),
    row("other-item", "image"),
  ]);
  const { item: out, assets } = enrichItem(item!, index);
  equal(assets, 2);
  deepEqual(item, before, "input not mutated");
  equal(out.assets.image!["file:size"], 12345);
  equal(out.assets.image!["file:checksum"], "1220" + "ab".repeat(32));
  equal(out.assets.image!.href, before.assets.image!.href, "href unchanged");
  equal(out.assets.thumbnail!["file:size"], 7);
  equal("file:checksum" in out.assets.thumbnail!, false);
  deepEqual(out.assets.tilejson, before.assets.tilejson);
  equal("alternate" in out.assets.image!, false);
  deepEqual(out.stac_extensions, [...before.stac_extensions!, FILE_EXTENSION]);
  // Again: no duplicate URI.
  deepEqual(enrichItem(out, index).item.stac_extensions, out.stac_extensions);
});

Deno.test("enrichItem() with alternateKey sets alternate.K.href and both URIs", async () => {
  const [item] = await fixtureItems("simple-item.json");
  const index = indexLockRows([
    row(item!.id, "visual", { store_endpoint_url: "https://s3.example" }),
    row(item!.id, "thumbnail", {
      store_type: "swift",
      store_container: "c",
      store_endpoint_url: "https://swift.example/v1/AUTH_t",
      key: "t.png",
      size_bytes: null,
      checksum: null,
    }),
  ]);
  const { item: out } = enrichItem(item!, index, { alternateKey: "mirror" });
  deepEqual(out.assets.visual!.alternate, {
    mirror: {
      href: "s3://bucket/20201211_223832_CS2/visual.tif",
      store_endpoint_url: "https://s3.example",
    },
  });
  deepEqual(out.assets.thumbnail!.alternate, {
    mirror: { href: "https://swift.example/v1/AUTH_t/c/t.png" },
  });
  equal(out.assets.visual!.href, item!.assets.visual!.href);
  deepEqual(out.stac_extensions, [FILE_EXTENSION, ALTERNATE_ASSETS_EXTENSION]);
});

Deno.test("enrichItem() returns an item without lock rows as it is", async () => {
  const [item] = await fixtureItems("core-item.json");
  const { item: out, assets } = enrichItem(item!, indexLockRows([row("nope", "analytic")]));
  equal(out, item);
  equal(assets, 0);
  const sizeless = indexLockRows([row(item!.id, "analytic", { size_bytes: null, checksum: null })]);
  const r = enrichItem(item!, sizeless);
  deepEqual(r.item.stac_extensions, item!.stac_extensions, "no URI without file fields");
});

Deno.test("transformItems() enriches a stream that survives an Arrow IPC round trip", async () => {
  const items = await fixtureItems("naip-pc.json");
  const index = indexLockRows(items.slice(0, 3).map((i) => row(i.id, "image")));
  const stats = newTransformStats();
  const out = (await Array.fromAsync(
    transformItems(inBatches(items, 2), (i) => enrichItem(i, index, { alternateKey: "s3" }), stats),
  )).flat();
  deepEqual(stats, { items: 4, changedItems: 3, changedAssets: 3 });
  notEqual(out[0], items[0]);
  equal(out[3], items[3]);
  const back = (await Array.fromAsync(itemsFromIpc(itemsToIpc(inBatches(out, 2))))).flat();
  deepEqual(dropNulls(back), dropNulls(out));
  equal(back[0]!.assets.image!["file:size"], 100);
  equal(
    (back[0]!.assets.image!.alternate as Record<string, { href: string }>).s3!.href,
    `s3://bucket/${items[0]!.id}/image.tif`,
  );
});
