import { deepEqual, equal, match } from "node:assert/strict";
import { failedOnce as expectFailure, itemsOf, runCliBytes, withEnv, withTempDir } from "./_cli.ts";
import { parquetWriteBuffer } from "hyparquet-writer";
import { writeLockParquetFile } from "../lib/lock/parquet.ts";
import type { LockRow } from "../lib/lock/schema.ts";
import { ALTERNATE_ASSETS_EXTENSION, FILE_EXTENSION } from "../lib/lock/enrich.ts";
import { itemsToIpc } from "../lib/stac/ipc.ts";
import type { StacItem } from "../lib/stac/item.ts";
import { dropNulls, fixtureItems, inBatches } from "../lib/stac/_testing.ts";
import { lockRowFor } from "../lib/lock/_testing.ts";
import { liveEnv } from "./_live.ts";

const ferry = runCliBytes;

async function ipcOf(items: StacItem[]): Promise<Uint8Array> {
  return new Uint8Array(await new Response(itemsToIpc(inBatches(items, 2))).arrayBuffer());
}

const row = (itemId: string, assetKey: string, over: Partial<LockRow> = {}): LockRow =>
  lockRowFor(itemId, assetKey, {
    size_bytes: 4242,
    etag: "e",
    last_modified: "2024-01-01T00:00:00.000Z",
    checksum: "1220" + "cd".repeat(32),
    ...over,
  });

const SWIFT_VARS = ["OS_STORAGE_URL", "OS_AUTH_TOKEN", "ST_AUTH", "ST_USER", "ST_KEY"];

const noSwiftEnv = Object.fromEntries(SWIFT_VARS.map((k) => [k, undefined]));

Deno.test("ferry items enrich: file:size, file:checksum and the File Info URI from a lock", async () => {
  await withTempDir(async (dir) => {
    const items = await fixtureItems("naip-pc.json");
    const lock = `${dir}/assets.lock.parquet`;
    await writeLockParquetFile(
      [
        items.slice(0, 3).flatMap((
          i,
        ) => [row(i.id, "image"), row(i.id, "thumbnail", { checksum: null })]),
      ],
      lock,
    );
    const r = await ferry(["items", "enrich", "--asset-lock", lock], await ipcOf(items));
    const out = await itemsOf(r);
    match(r.stderr, /warning: 1 of 4 item\(s\) had no asset with a lock row/);
    equal(out.length, 4);
    for (const [n, item] of out.slice(0, 3).entries()) {
      equal(item.assets.image!["file:size"], 4242);
      equal(item.assets.image!["file:checksum"], "1220" + "cd".repeat(32));
      equal(item.assets.thumbnail!["file:size"], 4242);
      equal(item.assets.thumbnail!["file:checksum"], undefined);
      equal(item.assets.image!.href, items[n]!.assets.image!.href);
      equal(item.assets.image!.alternate, undefined);
      deepEqual(item.stac_extensions, [...items[n]!.stac_extensions!, FILE_EXTENSION]);
    }
    deepEqual(dropNulls(out[3]), dropNulls(items[3]), "unmatched item passed through");
    // Enriching twice changes nothing more (no duplicate URIs).
    const again = await itemsOf(await ferry(["items", "enrich", "--asset-lock", lock], r.stdout));
    deepEqual(dropNulls(again), dropNulls(out));
  });
});

Deno.test("ferry items enrich --alternate-key: Swift rows become full https URLs", async () => {
  await withTempDir(async (dir) => {
    const items = await fixtureItems("simple-item.json");
    const id = items[0]!.id;
    const lock = `${dir}/lock.parquet`;
    await writeLockParquetFile([[
      row(id, "visual", {
        store_type: "swift",
        store_container: "data",
        store_endpoint_url: "https://swift.example/v1/AUTH_test",
        key: "cogs/visual 1.tif",
      }),
      row(id, "thumbnail", {
        store_type: "swift",
        store_container: "data",
        store_endpoint_url: null,
        key: "thumb.png",
      }),
    ]], lock);
    await withEnv({ ...noSwiftEnv, OS_STORAGE_URL: "http://127.0.0.1:9/v1/AUTH_env" }, async () => {
      const r = await ferry(
        ["items", "enrich", "--asset-lock", lock, "--alternate-key", "swift"],
        await ipcOf(items),
      );
      const [item] = await itemsOf(r);
      equal(r.stderr, "");
      deepEqual(item!.assets.visual!.alternate, {
        swift: { href: "https://swift.example/v1/AUTH_test/data/cogs/visual%201.tif" },
      });
      deepEqual(item!.assets.thumbnail!.alternate, {
        swift: { href: "http://127.0.0.1:9/v1/AUTH_env/data/thumb.png" },
      });
      equal(item!.assets.visual!.href, items[0]!.assets.visual!.href);
      deepEqual(item!.stac_extensions, [FILE_EXTENSION, ALTERNATE_ASSETS_EXTENSION]);
    });
    await withEnv(noSwiftEnv, async () => {
      expectFailure(
        await ferry(
          ["items", "enrich", "--asset-lock", lock, "--alternate-key", "swift"],
          await ipcOf(items),
        ),
        /^ferry items enrich: Lock row "20201211_223832_CS2"\/"thumbnail" is on Swift without store_endpoint_url: set OS_STORAGE_URL/,
      );
      // Without --alternate-key no href is written, so no storage URL is needed.
      equal((await ferry(["items", "enrich", "--asset-lock", lock], await ipcOf(items))).code, 0);
    });
  });
});

Deno.test("ferry items add-alternate | promote-alternate | remove-alternate on a pipe", async () => {
  await withTempDir(async (dir) => {
    const items = await fixtureItems("naip-pc.json");
    const lock = `${dir}/lock.parquet`;
    await writeLockParquetFile(
      [items.map((i) => row(i.id, "image", { store_endpoint_url: "https://s3.example" }))],
      lock,
    );
    const added = await ferry(
      [
        "items",
        "add-alternate",
        "--asset-lock",
        lock,
        "--alternate-key",
        "s3",
        "--alternate-name",
        "S3",
      ],
      await ipcOf(items),
    );
    const withAlt = await itemsOf(added);
    equal(added.stderr, "");
    const s3 = (i: StacItem) => `s3://bucket/${i.id}/image.tif`;
    for (const [n, item] of withAlt.entries()) {
      deepEqual(item.assets.image!.alternate, {
        s3: { href: s3(item), store_endpoint_url: "https://s3.example", "alternate:name": "S3" },
      });
      equal(item.assets.image!["file:size"], undefined, "add-alternate sets no file fields");
      deepEqual(item.stac_extensions, [...items[n]!.stac_extensions!, ALTERNATE_ASSETS_EXTENSION]);
    }

    const replaced = await itemsOf(
      await ferry(
        ["items", "promote-alternate", "--alternate-key", "s3", "--mode", "replace"],
        added.stdout,
      ),
    );
    for (const [n, item] of replaced.entries()) {
      equal(item.assets.image!.href, s3(item));
      equal(item.assets.image!["alternate:name"], "s3");
      equal(item.assets.image!.store_endpoint_url, "https://s3.example");
      deepEqual(item.assets.image!.alternate, withAlt[n]!.assets.image!.alternate);
    }
    const dropped = await itemsOf(
      await ferry(
        ["items", "promote-alternate", "--key", "s3", "--mode", "replace", "--drop-alternates"],
        added.stdout,
      ),
    );
    equal(dropped[0]!.assets.image!.alternate, undefined);
    equal(dropped[0]!.assets.image!.href, s3(dropped[0]!));

    const switched = await ferry(
      [
        "items",
        "promote-alternate",
        "--alternate-key",
        "s3",
        "--mode",
        "switch",
        "--switched-alternate-name",
        "azure",
      ],
      added.stdout,
    );
    const sw = await itemsOf(switched);
    for (const [n, item] of sw.entries()) {
      equal(item.assets.image!.href, s3(item));
      equal(item.assets.image!["alternate:name"], "s3");
      deepEqual(item.assets.image!.alternate, {
        s3: { href: items[n]!.assets.image!.href, "alternate:name": "azure" },
      });
      deepEqual(item.assets.thumbnail, items[n]!.assets.thumbnail);
    }
    const defaultName = await itemsOf(
      await ferry(
        ["items", "promote-alternate", "--alternate-key", "s3", "--mode", "switch"],
        added.stdout,
      ),
    );
    equal(
      (defaultName[0]!.assets.image!.alternate as Record<string, Record<string, string>>).s3![
        "alternate:name"
      ],
      "original",
    );

    const removed = await ferry(
      ["items", "remove-alternate", "--alternate-key", "s3"],
      added.stdout,
    );
    deepEqual(
      dropNulls(await itemsOf(removed)),
      dropNulls(items),
      "add then remove is the identity",
    );
    const nothing = await ferry(
      ["items", "remove-alternate", "--alternate-key", "s3"],
      removed.stdout,
    );
    equal(nothing.code, 0);
    match(nothing.stderr, /warning: no asset has alternate "s3"/);
  });
});

Deno.test("ferry items enrich: a preview on a terminal", async () => {
  await withTempDir(async (dir) => {
    const items = await fixtureItems("naip-pc.json");
    const lock = `${dir}/lock.parquet`;
    await writeLockParquetFile([items.map((i) => row(i.id, "image"))], lock);
    const r = await ferry(["items", "enrich", "--asset-lock", lock], await ipcOf(items), true);
    equal(r.code, 0, r.stderr);
    match(r.text, /4 rows x \d+ columns/);
  });
});

Deno.test("ferry items enrich/alternates: bad input is one line, non-zero, nothing written", async () => {
  await withTempDir(async (dir) => {
    const items = await ipcOf(await fixtureItems("simple-item.json"));
    const lock = `${dir}/lock.parquet`;
    await writeLockParquetFile([[row("20201211_223832_CS2", "visual")]], lock);
    const partial = `${dir}/partial.parquet`;
    await Deno.writeFile(
      partial,
      new Uint8Array(parquetWriteBuffer({
        columnData: [
          { name: "item_id", data: ["a"] },
          { name: "key", data: ["k"] },
        ],
      })),
    );
    const notParquet = `${dir}/not.parquet`;
    await Deno.writeTextFile(notParquet, "hello");
    const cases: [string[], RegExp, Uint8Array?][] = [
      [["items", "enrich"], /^ferry items enrich: Missing flag --asset-lock$/],
      [
        ["items", "enrich", "--asset-lock", `${dir}/missing.parquet`],
        /^ferry items enrich: Asset lock ".*missing\.parquet" does not exist$/,
      ],
      [
        ["items", "enrich", "--asset-lock", partial],
        /^ferry items enrich: Invalid asset lock ".*partial\.parquet": missing column\(s\) asset_key, store_type$/,
      ],
      [
        ["items", "enrich", "--asset-lock", notParquet],
        /Invalid asset lock ".*not\.parquet": not a Parquet file/,
      ],
      [
        ["items", "enrich", "--asset-lock", lock, "--alternate-key", ""],
        /Invalid --alternate-key: it is empty/,
      ],
      [["items", "enrich", "--asset-lock", lock, "extra"], /Unexpected argument "extra"/],
      [
        ["items", "enrich", "--asset-lock", lock],
        /^ferry items enrich: stdin: (Empty input|Not an Arrow IPC stream)/,
        new TextEncoder().encode("{}"),
      ],
      [
        ["items", "enrich", "--asset-lock", lock],
        /stdin: Empty input|Not an Arrow IPC stream/,
        new Uint8Array(),
      ],
      [
        ["items", "add-alternate", "--asset-lock", lock],
        /^ferry items add-alternate: Missing flag --alternate-key$/,
      ],
      [["items", "add-alternate", "--alternate-key", "s3"], /Missing flag --asset-lock/],
      [
        ["items", "remove-alternate"],
        /^ferry items remove-alternate: Missing flag --alternate-key$/,
      ],
      [["items", "promote-alternate", "--mode", "switch"], /Missing flag --alternate-key/],
      [
        ["items", "promote-alternate", "--alternate-key", "s3", "--mode", "swap"],
        /^ferry items promote-alternate: Invalid --mode "swap": expected one of replace, switch$/,
      ],
      [
        [
          "items",
          "promote-alternate",
          "--alternate-key",
          "s3",
          "--mode",
          "switch",
          "--drop-alternates",
        ],
        /--drop-alternates is only used with --mode replace/,
      ],
      [
        ["items", "promote-alternate", "--alternate-key", "s3", "--bogus"],
        /Unknown flag "--bogus"/,
      ],
    ];
    for (const [args, pattern, stdin] of cases) {
      const r = await ferry(args, stdin ?? items);
      expectFailure(r, pattern);
    }
    equal(
      (await ferry(["items", "enrich", "--asset-lock", `${dir}/missing.parquet`], items)).code,
      3,
    );
    equal(
      (await ferry(["items", "promote-alternate", "--key", "s3", "--mode", "x"], items)).code,
      2,
    );
  });
});

Deno.test("ferry items add-alternate: a Swift row without endpoint gets the TempAuth storage URL", async () => {
  const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY", "SWIFT_STORAGE_URL"], "Swift");
  if (!env) return;
  await withTempDir(async (dir) => {
    const items = await fixtureItems("simple-item.json");
    const lock = `${dir}/lock.parquet`;
    await writeLockParquetFile([[
      row(items[0]!.id, "visual", {
        store_type: "swift",
        store_container: "c",
        store_endpoint_url: null,
        key: "a/b.tif",
      }),
    ]], lock);
    await withEnv(
      { ...noSwiftEnv, ST_AUTH: env.ST_AUTH, ST_USER: env.ST_USER, ST_KEY: env.ST_KEY },
      async () => {
        const r = await ferry(
          ["items", "add-alternate", "--asset-lock", lock, "--alternate-key", "swift"],
          await ipcOf(items),
        );
        const [item] = await itemsOf(r);
        // No --alternate-name: the alternate is named after its key, as stacpkg does.
        deepEqual(item!.assets.visual!.alternate, {
          swift: {
            href: `${env.SWIFT_STORAGE_URL.replace(/\/$/, "")}/c/a/b.tif`,
            "alternate:name": "swift",
          },
        });
        equal(r.stderr.includes(env.ST_KEY), false);
      },
    );
  });
});
