/**
 * `ferry asset-lock relocate` as stacpkg defines it: `--destination-lock` is
 * an input naming each destination, `--dry-run` emits the destination lock,
 * `--store-type` takes stacpkg's set; and gs:// / az:// assets read
 * anonymously over their public HTTPS endpoints (here the live Swift's, a
 * public container standing in for a public bucket).
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { failedOnce, itemsOf, runCliBytes, withEnv, withTempDir } from "./_cli.ts";
import { liveEnv, uniqueName } from "./_live.ts";
import {
  type LockRow,
  lockRowsFromIpc,
  readLockParquetRows,
  writeLockParquetFile,
} from "../lib/lock/mod.ts";
import { openLocation } from "../lib/stores/registry.ts";
import { getBytes, putBytes, streamOf } from "../lib/stores/ext.ts";

const ferry = runCliBytes;
const env = liveEnv(
  [
    "ST_AUTH",
    "ST_USER",
    "ST_KEY",
    "SWIFT_STORAGE_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
  ] as const,
  "Swift (native and s3api)",
);
const live = { ignore: env === undefined, sanitizeOps: false, sanitizeResources: false };

async function ipcRows(bytes: Uint8Array): Promise<LockRow[]> {
  return (await Array.fromAsync(lockRowsFromIpc(streamOf(bytes)))).flat();
}

/** Three local files, their items (NDJSON and IPC) and their lock (with checksums). */
async function sourceFixture(dir: string) {
  const lines: string[] = [];
  for (const id of ["a", "b", "c"]) {
    await Deno.writeFile(`${dir}/${id}.tif`, new TextEncoder().encode(`bytes of ${id}`.repeat(10)));
    lines.push(JSON.stringify({
      type: "Feature",
      stac_version: "1.1.0",
      id,
      geometry: null,
      properties: { datetime: "2024-01-01T00:00:00Z" },
      links: [],
      assets: { data: { href: `${dir}/${id}.tif` } },
    }));
  }
  await Deno.writeTextFile(`${dir}/items.ndjson`, lines.join("\n") + "\n");
  const items = (await ferry(["items", "from-ndjson", `${dir}/items.ndjson`])).stdout;
  const lock = await ferry(["asset-lock", "derive", "--checksum", "sha256"], items);
  equal(lock.code, 0, lock.stderr);
  await ferry(["asset-lock", "to-parquet", `${dir}/lock.parquet`], lock.stdout);
  return { items, lockIpc: lock.stdout, lock: `${dir}/lock.parquet` };
}

Deno.test("relocate --dry-run emits the destination lock, and stacpkg's recipe dry-run | to-parquet | enrich works", async () => {
  await withTempDir(async (dir) => {
    const { items, lock } = await sourceFixture(dir);
    const source = await readLockParquetRows(lock);
    const dry = await ferry([
      "asset-lock",
      "relocate",
      lock,
      "--store-type",
      "s3",
      "--store-container",
      "archive",
      "--store-endpoint-url",
      "minio.example:9000",
      "--key",
      "pkg/",
      "--dry-run",
    ]);
    equal(dry.code, 0, dry.stderr);
    match(dry.stderr, /dry run: 3 of 3 row\(s\) would be copied; nothing was written/);
    const planned = await ipcRows(dry.stdout);
    deepEqual(planned.map((r) => [r.store_type, r.store_container, r.store_endpoint_url, r.key]), [
      ["s3", "archive", "https://minio.example:9000", "pkg/a/data.tif"],
      ["s3", "archive", "https://minio.example:9000", "pkg/b/data.tif"],
      ["s3", "archive", "https://minio.example:9000", "pkg/c/data.tif"],
    ]);
    // Same schema; the bytes' facts kept, the destination object's facts empty.
    deepEqual(
      planned.map((r) => [r.size_bytes, r.checksum]),
      source.map((r) => [r.size_bytes, r.checksum]),
    );
    ok(planned.every((r) => r.etag === null && r.last_modified === null));
    // The prefix is a folder, as stacpkg joins it: `pkg` gives the same keys as `pkg/`.
    const noSlash = await ferry([
      "asset-lock",
      "relocate",
      lock,
      "--store-type",
      "s3",
      "--store-container",
      "archive",
      "--key",
      "pkg",
      "--dry-run",
    ]);
    equal(noSlash.code, 0, noSlash.stderr);
    deepEqual((await ipcRows(noSlash.stdout)).map((r) => r.key), planned.map((r) => r.key));

    const saved = await ferry(["asset-lock", "to-parquet", `${dir}/planned.parquet`], dry.stdout);
    equal(saved.code, 0, saved.stderr);
    const enriched = await itemsOf(
      await ferry(
        ["items", "enrich", "--asset-lock", `${dir}/planned.parquet`, "--alternate-key", "s3"],
        items,
      ),
    );
    deepEqual(enriched[0]!.assets.data!.alternate, {
      s3: { href: "s3://archive/pkg/a/data.tif", store_endpoint_url: "https://minio.example:9000" },
    });
    equal(enriched[0]!.assets.data!["file:size"], source[0]!.size_bytes);

    // http(s), gs and az map locations in a dry run.
    for (
      const [type, container, href] of [
        ["gs", "bucket", "gs://bucket/pkg/a/data.tif"],
        ["az", "container", "az://container/pkg/a/data.tif"],
        ["https", "https://cdn.example", "https://cdn.example/pkg/a/data.tif"],
      ]
    ) {
      const mapped = await ferry([
        "asset-lock",
        "relocate",
        lock,
        "--store-type",
        type!,
        "--store-container",
        container!,
        "--key",
        "pkg/",
        "--dry-run",
      ]);
      equal(mapped.code, 0, mapped.stderr);
      const [first] = await ipcRows(mapped.stdout);
      equal(first!.store_type, type);
      const { formatHref } = await import("../lib/stores/location.ts");
      equal(formatHref(first!), href);
    }
    await Deno.stat(`${dir}/pkg`).then(() => ok(false, "a dry run wrote"), () => {});
  });
});

Deno.test("relocate: bad --store-type and --destination-lock combinations are one-line errors, nothing written", async () => {
  await withTempDir(async (dir) => {
    const { lock } = await sourceFixture(dir);
    const source = await readLockParquetRows(lock);
    await writeLockParquetFile([[source[0]!, source[0]!]], `${dir}/twice.parquet`);
    const cases: [string[], RegExp][] = [
      [
        ["--store-type", "gs", "--store-container", "b"],
        /Invalid --store-type "gs": ferry reads gs objects but does not write them \(use it with --dry-run to map locations\)$/,
      ],
      [
        ["--store-type", "https", "--store-container", "https://h"],
        /Invalid --store-type "https": ferry reads https objects but does not write them/,
      ],
      [
        ["--store-type", "memory", "--store-container", "m"],
        /Invalid --store-type "memory": expected one of file, s3, gs, az, http, https, swift$/,
      ],
      [["--store-type", "ftp"], /Invalid --store-type "ftp": expected one of file, s3, gs, az/],
      [["--store-type", "az", "--dry-run"], /Missing --store-container for --store-type az$/],
      [
        ["--store-type", "file", "--dry-run"],
        /Missing --key for --store-type file: the destination folder$/,
      ],
      [
        ["--destination-lock", lock, "--store-type", "file"],
        /Flags --store-type and --destination-lock exclude each other$/,
      ],
      [
        ["--destination-lock", lock, "--key", "x/"],
        /Flag --key is only used with --store-type: --destination-lock names every destination$/,
      ],
      [
        ["--destination-lock", lock, "--layout", "source-key"],
        /Flag --layout is only used with --store-type/,
      ],
      [
        ["--destination-lock", `${dir}/twice.parquet`],
        /Invalid destination lock: row 2 repeats item "a" asset "data"$/,
      ],
      [
        ["--destination-lock", `${dir}/none.parquet`],
        /Cannot read asset lock ".*none\.parquet": no such file$/,
      ],
      [[], /Missing --store-type or --destination-lock$/],
    ];
    for (const [flags, pattern] of cases) {
      failedOnce(await ferry(["asset-lock", "relocate", lock, ...flags]), pattern);
    }
    failedOnce(
      await ferry(["asset-lock", "relocate", `${dir}/twice.parquet`, "--destination-lock", lock]),
      /Invalid source lock: row 2 repeats item "a" asset "data"$/,
    );
  });
});

Deno.test({
  name:
    "relocate --destination-lock copies each source object to the location its destination row names (Swift, S3, files)",
  ...live,
  async fn() {
    await withTempDir(async (dir) => {
      const { lock, lockIpc } = await sourceFixture(dir);
      const source = await readLockParquetRows(lock);
      const container = uniqueName("ferry-destlock");
      const bucket = uniqueName("ferry-destlock-s3");
      // Destinations chosen row by row: Swift, S3 (endpoint in the row), a file; "c" is
      // not in the destination lock; "z" has no source and is kept as it is.
      const destination: LockRow[] = [
        {
          ...source[1]!,
          store_type: "s3",
          store_container: bucket,
          store_endpoint_url: env!.S3_ENDPOINT,
          key: "x/b.tif",
          etag: null,
          last_modified: null,
        },
        {
          ...source[0]!,
          store_type: "swift",
          store_container: container,
          store_endpoint_url: null,
          key: "y/a.tif",
          etag: null,
          last_modified: null,
        },
        { ...source[2]!, item_id: "z", store_type: "file", key: `${dir}/kept/z.tif`, etag: null },
      ];
      await writeLockParquetFile([destination], `${dir}/dest.parquet`);
      await withEnv({
        AWS_ACCESS_KEY_ID: env!.S3_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env!.S3_SECRET_ACCESS_KEY,
        AWS_REGION: "us-east-1",
      }, async () => {
        // The source lock on stdin (stacpkg's way), the destination lock as a file.
        const moved = await ferry(
          ["asset-lock", "relocate", "--destination-lock", `${dir}/dest.parquet`],
          lockIpc,
        );
        equal(moved.code, 0, moved.stderr);
        const rows = await ipcRows(moved.stdout);
        deepEqual(rows.map((r) => [r.item_id, r.store_type, r.key]), [
          ["b", "s3", "x/b.tif"],
          ["a", "swift", "y/a.tif"],
          ["z", "file", `${dir}/kept/z.tif`],
        ]);
        ok(rows[0]!.etag && rows[0]!.last_modified && rows[1]!.etag, "observed facts");
        deepEqual(rows.slice(0, 2).map((r) => r.checksum), [
          source[1]!.checksum,
          source[0]!.checksum,
        ]);
        const swift = openLocation(`swift://${container}/y/a.tif`);
        deepEqual(await getBytes(swift.store, swift.key), await Deno.readFile(`${dir}/a.tif`));
        const s3 = openLocation({
          store_type: "s3",
          store_container: bucket,
          store_endpoint_url: env!.S3_ENDPOINT,
          key: "x/b.tif",
        });
        deepEqual(await getBytes(s3.store, s3.key), await Deno.readFile(`${dir}/b.tif`));
        await Deno.stat(`${dir}/kept`).then(
          () => ok(false, "z has no source: nothing copied"),
          () => {},
        );

        // The new lock validates (deep) once z, which has no object, is left out.
        await ferry(["asset-lock", "to-parquet", `${dir}/new.parquet`], moved.stdout);
        const checked = await ferry([
          "asset-lock",
          "validate",
          `${dir}/new.parquet`,
          "--deep",
          "--item-ids",
          "a",
          "--item-ids",
          "b",
        ]);
        equal(checked.code, 0, checked.text + checked.stderr);

        // A destination row on a store ferry cannot write fails its row; --keep-going keeps the old one.
        await writeLockParquetFile(
          [[{
            ...source[0]!,
            store_type: "https",
            store_container: "https://cdn.example",
            key: "a.tif",
          }]],
          `${dir}/readonly.parquet`,
        );
        const refused = await ferry([
          "asset-lock",
          "relocate",
          lock,
          "--destination-lock",
          `${dir}/readonly.parquet`,
        ]);
        equal(refused.code, 1);
        equal(refused.stdout.byteLength, 0);
        match(
          refused.stderr,
          /Cannot relocate item "a" asset "data": Cannot write to "https:\/\/cdn\.example\/a\.tif": ferry reads https objects but does not write them/,
        );
        const kept = await ferry([
          "asset-lock",
          "relocate",
          lock,
          "--destination-lock",
          `${dir}/readonly.parquet`,
          "--keep-going",
        ]);
        equal(kept.code, 1);
        deepEqual(await ipcRows(kept.stdout), [source[0]]);
      });
    });
  },
});

Deno.test({
  name:
    "gs:// and az:// assets: derive and build with --keep-going --no-probe-metadata, then probe, validate and relocate from a public endpoint",
  ...live,
  async fn() {
    await withTempDir(async (dir) => {
      const container = uniqueName("ferry-public");
      const swift = openLocation(`swift://${container}/x`);
      const bytes = new TextEncoder().encode("public object bytes");
      await putBytes(swift.store, "scenes/s 1/B04.tif", bytes);
      const made = await ferry(["swift", "public", container]);
      equal(made.code, 0, made.stderr);
      const item = {
        type: "Feature",
        stac_version: "1.1.0",
        id: "scene",
        geometry: null,
        properties: { datetime: "2024-01-01T00:00:00Z" },
        links: [],
        assets: {
          gs: { href: `gs://${container}/scenes/s 1/B04.tif` },
          az: { href: `az://${container}/scenes/s 1/B04.tif` },
        },
      };
      await Deno.writeTextFile(`${dir}/items.ndjson`, JSON.stringify(item) + "\n");
      const items = (await ferry(["items", "from-ndjson", `${dir}/items.ndjson`])).stdout;

      // No endpoint configured and no probe: the locations alone, nothing aborts.
      await withEnv({
        STORAGE_EMULATOR_HOST: undefined,
        AZURE_STORAGE_ENDPOINT: undefined,
        AZURE_STORAGE_ACCOUNT_NAME: undefined,
      }, async () => {
        const unprobed = await ferry([
          "asset-lock",
          "derive",
          "--keep-going",
          "--no-probe-metadata",
        ], items);
        equal(unprobed.code, 0, unprobed.stderr);
        deepEqual(
          (await ipcRows(unprobed.stdout)).map((r) => [r.store_type, r.store_container, r.key]),
          [
            ["gs", container, "scenes/s 1/B04.tif"],
            ["az", container, "scenes/s 1/B04.tif"],
          ],
        );
        const built = await ferry(
          ["build", `${dir}/pkg0`, "--keep-going", "--no-probe-metadata"],
          items,
        );
        equal(built.code, 0, built.stderr);
        equal(JSON.parse(built.text).assets, 2);
        // Probing without an Azure account: a clear error, kept going.
        const probed = await ferry(
          ["asset-lock", "derive", "--keep-going", "--asset-keys", "az"],
          items,
        );
        equal(probed.code, 0, probed.stderr);
        match(
          probed.stderr,
          /No Azure account for "az:\/\/.*": set AZURE_STORAGE_ACCOUNT_NAME or AZURE_STORAGE_ENDPOINT/,
        );
      });

      // The public endpoints (the live Swift's public container stands in for both clouds).
      await withEnv({
        STORAGE_EMULATOR_HOST: env!.SWIFT_STORAGE_URL,
        AZURE_STORAGE_ENDPOINT: env!.SWIFT_STORAGE_URL,
      }, async () => {
        const derived = await ferry(["asset-lock", "derive", "--checksum", "sha256"], items);
        equal(derived.code, 0, derived.stderr);
        const rows = await ipcRows(derived.stdout);
        deepEqual(rows.map((r) => r.size_bytes), [bytes.length, bytes.length]);
        ok(rows.every((r) => r.etag && r.checksum?.startsWith("1220")));
        await ferry(["asset-lock", "to-parquet", `${dir}/lock.parquet`], derived.stdout);
        const checked = await ferry(["asset-lock", "validate", `${dir}/lock.parquet`, "--deep"]);
        equal(checked.code, 0, checked.text + checked.stderr);
        equal(checked.text.trim().split("\n").length, 2);
        const built = await ferry([
          "build",
          `${dir}/pkg`,
          "--include-assets",
          "--checksum",
          "sha256",
        ], items);
        equal(built.code, 0, built.stderr);
        deepEqual(await Deno.readFile(`${dir}/pkg/assets/scene/gs.tif`), bytes);

        const moved = await ferry([
          "asset-lock",
          "relocate",
          `${dir}/lock.parquet`,
          "--store-type",
          "file",
          "--key",
          `${dir}/copy/`,
        ]);
        equal(moved.code, 0, moved.stderr);
        deepEqual(await Deno.readFile(`${dir}/copy/scene/az.tif`), bytes);
        deepEqual(
          (await ipcRows(moved.stdout)).map((r) => r.checksum),
          rows.map((r) => r.checksum),
        );
      });
    });
  },
});
