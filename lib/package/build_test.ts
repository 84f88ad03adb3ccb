import { deepEqual, equal } from "node:assert/strict";
import { buildPackage } from "./build.ts";
import { itemsToIpc, readItemsParquet, type StacItem } from "../stac/mod.ts";
import { lockRowsOfItem } from "../lock/derive.ts";
import { readLockParquet } from "../lock/parquet.ts";

const item = (i: number, assets: StacItem["assets"]): StacItem => ({
  type: "Feature",
  stac_version: "1.0.0",
  id: `i${i}`,
  geometry: { type: "Point", coordinates: [i, 0] },
  bbox: [i, 0, i, 0],
  properties: { datetime: "2024-01-01T00:00:00Z" },
  links: [],
  assets,
});

async function* batches(items: StacItem[], size: number) {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

Deno.test("buildPackage() from an Arrow IPC stream writes the same package as from items", async () => {
  const items = [
    item(0, { data: { href: "s3://b/0.tif", "file:size": 3 }, metadata: { href: "s3://b/0.xml" } }),
    item(1, { data: { href: "https://h.example/1.tif?sig=x" } }),
    // A later batch: an asset key the schema (from the first batch) lacks.
    item(2, { data: { href: "/tmp/2.tif" }, late: { href: "https://h.example/late.tif" } }),
    item(3, { data: { href: "s3://b/3.tif" }, late: {} as never }),
  ];
  const dir = await Deno.makeTempDir();
  try {
    const fromIpc = await buildPackage(itemsToIpc(batches(items, 2)), `${dir}/ipc`, {
      probeMetadata: false,
    });
    const fromItems = await buildPackage(batches(items, 2), `${dir}/items`, {
      probeMetadata: false,
    });
    equal(fromItems.assets, fromIpc.assets);
    equal(fromIpc.items, 4);
    equal(fromIpc.assets, 5);
    const lockOf = async (name: string) =>
      (await Array.fromAsync(readLockParquet(`${dir}/${name}/assets.lock.parquet`))).flat();
    const expected = items.flatMap((i) => lockRowsOfItem(i));
    deepEqual(await lockOf("ipc"), expected);
    deepEqual(await lockOf("items"), expected);
    const itemsOf = async (name: string) =>
      (await Array.fromAsync(readItemsParquet(`${dir}/${name}/items.parquet`))).flat();
    deepEqual(await itemsOf("ipc"), await itemsOf("items"));
    equal((await itemsOf("ipc"))[2]!.assets.late!.href, "https://h.example/late.tif");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
