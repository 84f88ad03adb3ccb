import { deepEqual, equal } from "node:assert/strict";
import { decodeItemAssets } from "./item_assets_view.ts";
import { ItemsEncoder } from "./items_encoder.ts";
import type { StacItem } from "./item.ts";

const itemOf = (i: number, href: string, links: unknown[]): StacItem => ({
  type: "Feature",
  stac_version: "1.0.0",
  id: `i${i}`,
  geometry: null,
  properties: { datetime: "2020-01-01T00:00:00Z" },
  links,
  assets: { data: { href, title: "T", "file:size": i } },
});

Deno.test("decodeItemAssets() adds rel and href of each link when some asset href is relative", () => {
  const items = Array.from(
    { length: 6 },
    (_, i) =>
      itemOf(i, i % 2 ? `./B0${i}.tif` : `s3://b/B0${i}.tif`, [
        { rel: "self", href: `/data/cat/i${i}.json`, type: "application/json", title: "me" },
        ...(i === 3 ? [{ rel: "root", href: "../catalog.json", extra: [1, 2] }] : []),
      ]),
  );
  const batch = ItemsEncoder.infer(items).encode(items);
  for (const [start, end] of [[0, 6], [1, 4], [3, 4]] as const) {
    const rows = decodeItemAssets(batch.slice(start, end));
    deepEqual(
      rows.map((r) => [r.id, r.links]),
      items.slice(start, end).map((item, k) => [
        item.id,
        [
          { rel: "self", href: `/data/cat/i${start + k}.json` },
          ...(start + k === 3 ? [{ rel: "root", href: "../catalog.json" }] : []),
        ],
      ]),
    );
  }
});

Deno.test("decodeItemAssets() leaves links out when every asset href is absolute", () => {
  const items = [0, 2].map((i) => itemOf(i, `/abs/B0${i}.tif`, [{ rel: "self", href: "/x.json" }]));
  const rows = decodeItemAssets(ItemsEncoder.infer(items).encode(items));
  equal(rows.length, 2);
  equal(rows.some((r) => "links" in r), false);
  // A batch with one relative href decodes the links of every row.
  const mixed = [...items, itemOf(1, "B01.tif", [])];
  deepEqual(
    decodeItemAssets(ItemsEncoder.infer(mixed).encode(mixed)).map((r) => r.links),
    [[{ rel: "self", href: "/x.json" }], [{ rel: "self", href: "/x.json" }], []],
  );
});
