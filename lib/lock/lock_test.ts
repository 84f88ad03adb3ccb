import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { duck } from "../../tests/_duckdb.ts";
import {
  deriveLock,
  type LockRow,
  lockRowsFromIpc,
  lockRowsOfItem,
  lockRowsToIpc,
  ProbeError,
  readLockParquetRows,
  writeLockParquetFile,
} from "./mod.ts";
import { validateLock, type ValidateOptions } from "./validate.ts";
import { lockTime } from "./schema.ts";

const validateRows = async (rows: LockRow[], options: ValidateOptions = {}) =>
  (await validateLock([rows], options)).results;

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of it) out.push(...batch);
  return out;
}

const sha = (bytes: Uint8Array) => "1220" + createHash("sha256").update(bytes).digest("hex");

function row(over: Partial<LockRow> = {}): LockRow {
  return {
    item_id: "item-1",
    asset_key: "data",
    store_type: "file",
    store_container: null,
    store_endpoint_url: null,
    key: "/nowhere/a.tif",
    size_bytes: null,
    etag: null,
    last_modified: null,
    checksum: null,
    ...over,
  };
}

Deno.test("writeLockParquetFile() writes a lock DuckDB reads with the expected columns", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/assets.lock.parquet`;
  const rows = [
    row({ size_bytes: 2 ** 40, etag: "e1", last_modified: "2024-05-01T10:00:00.000Z" }),
    row({ asset_key: "thumb", store_type: "s3", store_container: "b", key: "k/t.png" }),
  ];
  equal((await writeLockParquetFile([rows.slice(0, 1), rows.slice(1)], path)).rows, 2);
  const described = await duck(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  deepEqual(described.map((r) => [r.column_name, r.column_type]), [
    ["item_id", "VARCHAR"],
    ["asset_key", "VARCHAR"],
    ["store_type", "VARCHAR"],
    ["store_container", "VARCHAR"],
    ["store_endpoint_url", "VARCHAR"],
    ["key", "VARCHAR"],
    ["size_bytes", "BIGINT"],
    ["etag", "VARCHAR"],
    ["last_modified", "VARCHAR"],
    ["checksum", "VARCHAR"],
  ]);
  const values = await duck(`SELECT size_bytes, store_container FROM read_parquet('${path}')`);
  deepEqual(values, [
    { size_bytes: BigInt(2 ** 40), store_container: null },
    { size_bytes: null, store_container: "b" },
  ]);
  const kv = await duck(
    `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}') ORDER BY k`,
  );
  deepEqual(kv, [
    { k: "stacpkg:schema-kind", v: "asset-lock" },
    { k: "stacpkg:schema-version", v: "v1" },
  ]);
  deepEqual(await readLockParquetRows(path), rows);
  deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), [
    "assets.lock.parquet",
  ]);
});

Deno.test("readLockParquetRows() reads a stacpkg-shaped lock: no checksum, extra columns dropped", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/stacpkg.parquet`;
  await duck(`COPY (SELECT 'i1' AS item_id, 'data' AS asset_key, 's3a' AS store_type,
    'bucket' AS store_container, NULL::VARCHAR AS store_endpoint_url, 'x/y.tif' AS key,
    42::BIGINT AS size_bytes, 'abc' AS etag, '2024-01-02T03:04:05+00:00' AS last_modified,
    'whatever' AS extra_column) TO '${path}' (FORMAT parquet)`);
  deepEqual(await readLockParquetRows(path), [
    row({
      item_id: "i1",
      store_type: "s3",
      store_container: "bucket",
      key: "x/y.tif",
      size_bytes: 42,
      etag: "abc",
      last_modified: "2024-01-02T03:04:05+00:00",
    }),
  ]);
});

Deno.test("readLockParquetRows() names the file and the missing columns", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/partial.parquet`;
  await duck(`COPY (SELECT 'i1' AS item_id, 'file' AS store_type) TO '${path}' (FORMAT parquet)`);
  await rejects(readLockParquetRows(path), (error: Error) => {
    ok(error instanceof SyntaxError);
    equal(error.message, `Invalid asset lock "${path}": missing column(s) asset_key, key`);
    return true;
  });
});

Deno.test("readLockParquetRows() names the file and row of an empty required value", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nullrow.parquet`;
  await duck(`COPY (SELECT * FROM (VALUES ('i1', 'a', 'file', '/x'), (NULL, 'b', 'file', '/y'))
    t(item_id, asset_key, store_type, key)) TO '${path}' (FORMAT parquet)`);
  await rejects(readLockParquetRows(path), {
    name: "SyntaxError",
    message: `Invalid asset lock "${path}": row 2: item_id is empty`,
  });
});

Deno.test("readLockParquetRows() rejects a truncated lock and a non-Parquet file", async () => {
  const dir = await Deno.makeTempDir();
  const good = `${dir}/good.parquet`;
  await writeLockParquetFile([[row(), row({ asset_key: "b" })]], good);
  const bytes = await Deno.readFile(good);
  const truncated = `${dir}/truncated.parquet`;
  await Deno.writeFile(truncated, bytes.subarray(0, bytes.length - 10));
  await rejects(readLockParquetRows(truncated), (error: Error) => {
    ok(error instanceof SyntaxError);
    match(error.message, new RegExp(`^Invalid asset lock "${truncated}": not a Parquet file`));
    ok(!error.message.includes("\n"));
    return true;
  });
  const text = `${dir}/lock.json`;
  await Deno.writeTextFile(text, '{"item_id": "a"}\n');
  await rejects(readLockParquetRows(text), {
    message: /^Invalid asset lock ".*lock\.json": not a/,
  });
});

Deno.test("lockRowsFromIpc() round-trips rows and rejects a stream that is not a lock", async () => {
  const rows = [row({ size_bytes: 5, checksum: "1220ab" }), row({ asset_key: "b" })];
  deepEqual(await collect(lockRowsFromIpc(lockRowsToIpc([rows]))), rows);
  await rejects(
    collect(lockRowsFromIpc(new Blob(["not arrow at all"]).stream())),
    { name: "SyntaxError", message: /^Invalid asset lock on stdin: not an Arrow IPC stream/ },
  );
});

Deno.test("lockRowsOfItem() follows stacpkg: metadata assets, key filter, locations", () => {
  const item = {
    id: "it",
    assets: {
      data: { href: "https://host.example/path/a.tif", "file:size": 10 },
      signed: { href: "https://host.example/b.tif?X-Amz-Signature=s" },
      metadata: { href: "/abs/meta.xml" },
      local: { href: "rel/c.tif", store_endpoint_url: "ignored.example/" },
      nohref: { title: "no href" },
      s3: { href: "s3://bucket/k/d.tif", store_endpoint_url: "s3.example.com/" },
    },
  };
  const rows = lockRowsOfItem(item);
  deepEqual(rows.map((r) => r.asset_key), ["data", "signed", "local", "s3"]);
  deepEqual(
    rows.map((r) => [r.store_type, r.store_container, r.store_endpoint_url, r.key, r.size_bytes]),
    [
      ["https", "https://host.example", null, "path/a.tif", 10],
      ["https", "https://host.example/b.tif?X-Amz-Signature=s", null, "", null],
      ["file", null, "https://ignored.example", "rel/c.tif", null],
      ["s3", "bucket", "https://s3.example.com", "k/d.tif", null],
    ],
  );
  deepEqual(
    lockRowsOfItem(item, { includeMetadataAssets: true }).map((r) => r.asset_key),
    ["data", "signed", "metadata", "local", "s3"],
  );
  deepEqual(
    lockRowsOfItem(item, { assetKeys: ["metadata", "s3"] }).map((r) => r.asset_key),
    ["metadata", "s3"],
  );
});

Deno.test("deriveLock() probes files for size, etag, last-modified and sha256", async () => {
  const dir = await Deno.makeTempDir();
  const a = new TextEncoder().encode("hello asset a");
  const b = new Uint8Array(300_000).map((_, i) => i % 251);
  await Deno.writeFile(`${dir}/a.txt`, a);
  await Deno.writeFile(`${dir}/b.bin`, b);
  const items = [[
    { id: "one", assets: { a: { href: `${dir}/a.txt` } } },
    { id: "two", assets: { b: { href: `file://${dir}/b.bin` } } },
  ]];
  const rows = await collect(deriveLock(items, { checksum: "sha256", maxWorkers: 1 }));
  deepEqual(rows.map((r) => [r.item_id, r.size_bytes, r.checksum]), [
    ["one", a.length, sha(a)],
    ["two", b.length, sha(b)],
  ]);
  for (const r of rows) {
    ok(r.etag);
    // As stacpkg writes it (Python's isoformat), so stacpkg's string comparison accepts it.
    equal(r.last_modified, lockTime((await Deno.stat(r.key)).mtime!));
  }
  const unprobed = await collect(deriveLock(items, { probeMetadata: false }));
  deepEqual(unprobed.map((r) => [r.size_bytes, r.etag, r.checksum]), [
    [null, null, null],
    [null, null, null],
  ]);
});

Deno.test("deriveLock() aborts on a failed probe, or keeps a row with nulls under keepGoing", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/ok.txt`, "ok");
  const items = [[{
    id: "x",
    assets: {
      ok: { href: `${dir}/ok.txt` },
      gone: { href: `${dir}/missing.tif`, "file:size": 9 },
    },
  }]];
  await rejects(collect(deriveLock(items)), (error: Error) => {
    ok(error instanceof ProbeError);
    equal(error.row, 2);
    match(error.message, /^Cannot probe row 2 \(item "x", asset "gone"\) at ".*missing\.tif": /);
    return true;
  });
  const errors: ProbeError[] = [];
  const rows = await collect(
    deriveLock(items, { keepGoing: true, checksum: "sha256", onError: (e) => errors.push(e) }),
  );
  equal(rows.length, 2);
  equal(rows[0]!.size_bytes, 2);
  deepEqual([rows[1]!.etag, rows[1]!.last_modified, rows[1]!.checksum], [null, null, null]);
  equal(rows[1]!.size_bytes, 9, "the size the item stated is kept");
  deepEqual(errors.map((e) => e.assetKey), ["gone"]);
});

Deno.test("validateLock() reports size and checksum mismatches against files", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/assets`);
  await Deno.writeTextFile(`${dir}/assets/a.txt`, "12345");
  const [probed] = await collect(
    deriveLock([[{ id: "i", assets: { a: { href: `${dir}/assets/a.txt` } } }]], {
      checksum: "sha256",
    }),
  );
  const relative = { ...probed!, key: "assets/a.txt" };
  deepEqual((await validateRows([relative], { baseDir: dir, deep: true }))[0]!.errors, []);
  await Deno.writeTextFile(`${dir}/assets/a.txt`, "12346");
  const [changed] = await validateRows([{ ...relative, etag: null, last_modified: null }], {
    baseDir: dir,
    deep: true,
  });
  equal(changed!.valid, false);
  deepEqual(changed!.errors, [
    `checksum mismatch: expected ${probed!.checksum}, actual ${
      sha(new TextEncoder().encode("12346"))
    }`,
  ]);
  const [missing] = await validateRows([{ ...relative, key: "assets/nope" }], { baseDir: dir });
  equal(missing!.valid, false);
});
