import { deepEqual, equal, rejects } from "node:assert/strict";
import { parquetMetadata } from "hyparquet";
import { duck } from "../../tests/_duckdb.ts";
import { type LockRow, lockRowsFromRecordBatch, lockRowsToRecordBatch } from "./mod.ts";
import { readLockParquetRows, writeLockParquet, writeLockParquetFile } from "./parquet.ts";
import { dropFooterKeys } from "./_parquet_footer.ts";

function row(i: number, over: Partial<LockRow> = {}): LockRow {
  return {
    item_id: `item-${i}`,
    asset_key: i % 2 ? "data" : "thumbnail",
    store_type: "https",
    store_container: "https://host.example",
    store_endpoint_url: null,
    key: `a/${i}.tif`,
    size_bytes: i % 3 ? i : null,
    etag: i % 5 ? null : `"e${i}"`,
    last_modified: null,
    checksum: null,
    ...over,
  };
}

async function written(
  batches: Iterable<LockRow[]> | AsyncIterable<LockRow[]>,
  rowGroupSize?: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  await writeLockParquet(
    batches,
    new WritableStream({ write: (c) => void parts.push(c.slice()) }),
    {
      rowGroupSize,
    },
  );
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

Deno.test("writeLockParquet() cuts row groups of rowGroupSize across input batches", async () => {
  const rows = Array.from({ length: 25 }, (_, i) => row(i));
  const bytes = await written([rows.slice(0, 7), [], rows.slice(7, 20), rows.slice(20)], 10);
  const metadata = parquetMetadata(bytes.buffer);
  deepEqual(metadata.row_groups.map((g) => Number(g.num_rows)), [10, 10, 5]);
  deepEqual(metadata.key_value_metadata?.map((kv) => kv.key), [
    "stacpkg:schema-kind",
    "stacpkg:schema-version",
  ]);
  deepEqual(await readLockParquetRows(bytes), rows);
});

Deno.test("writeLockParquet() keeps non-ASCII strings and nulls", async () => {
  const rows = [
    row(1, { item_id: "é-🌍", key: "dossier/été.tif", etag: null }),
    row(2, { key: "plain", checksum: "1220ab", last_modified: "2024-01-01T00:00:00.000Z" }),
    row(3, { key: "\ud800 lone" }),
  ];
  const back = await readLockParquetRows(await written([rows]));
  deepEqual(back.slice(0, 2), rows.slice(0, 2));
  // A lone surrogate is not UTF-8: it is written as U+FFFD, as TextEncoder does.
  equal(back[2]!.key, "\ufffd lone");
  deepEqual(lockRowsFromRecordBatch(lockRowsToRecordBatch(rows.slice(0, 2)), 0), rows.slice(0, 2));
});

Deno.test("writeLockParquet() writes an empty lock with the lock columns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/empty.parquet`;
    equal((await writeLockParquetFile([], path)).rows, 0);
    deepEqual(await readLockParquetRows(path), []);
    const described = await duck(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    equal(
      described.map((r) => r.column_name).join(),
      [
        "item_id",
        "asset_key",
        "store_type",
        "store_container",
        "store_endpoint_url",
        "key",
        "size_bytes",
        "etag",
        "last_modified",
        "checksum",
      ].join(),
    );
    const kv = await duck(`SELECT decode(key) AS k FROM parquet_kv_metadata('${path}') ORDER BY k`);
    deepEqual(kv.map((r) => r.k), ["stacpkg:schema-kind", "stacpkg:schema-version"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function* failing(): AsyncIterable<LockRow[]> {
  yield Array.from({ length: 100 }, (_, i) => row(i));
  throw new Error("source broke");
}

const failingFirst = (): AsyncIterable<LockRow[]> => ({
  [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("nothing at all")) }),
});

Deno.test("writeLockParquetFile() reports a failing source and leaves no file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(writeLockParquetFile(failing(), `${dir}/lock.parquet`), /^Error: source broke$/);
    await rejects(writeLockParquetFile(failingFirst(), `${dir}/lock.parquet`), /nothing at all/);
    deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeLockParquet() rejects a row group size that is not a positive integer", async () => {
  for (const size of [0, -1, 1.5]) {
    await rejects(written([[row(1)]], size), /^RangeError: Invalid row group size/);
  }
});

Deno.test("dropFooterKeys() drops only the named entries, sorts the others, keeps other bytes", async () => {
  const bytes = await written([[row(1)]]);
  const length = new DataView(bytes.buffer).getUint32(bytes.length - 8, true);
  const footer = bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
  equal(dropFooterKeys(footer, new Set(["absent"])), footer);
  const dropped = dropFooterKeys(footer, new Set(["stacpkg:schema-kind"]));
  const trailer = new Uint8Array(8);
  new DataView(trailer.buffer).setUint32(0, dropped.byteLength, true);
  trailer.set([0x50, 0x41, 0x52, 0x31], 4);
  const file = await new Blob([
    bytes.subarray(0, bytes.length - 8 - length),
    dropped.slice(),
    trailer,
  ])
    .arrayBuffer();
  const metadata = parquetMetadata(file);
  deepEqual(metadata.key_value_metadata?.map((kv) => kv.key), ["stacpkg:schema-version"]);
  equal(Number(metadata.num_rows), 1);
});

/** A Thrift compact `FileMetaData` of just key-value entries (field 5) and `created_by` (field 6). */
function kvFooter(keys: string[]): Uint8Array {
  const text = (t: string) => {
    const b = new TextEncoder().encode(t);
    return [b.length, ...b];
  };
  const list = keys.length < 15 ? [(keys.length << 4) | 12] : [0xfc, keys.length];
  return new Uint8Array([
    0x59,
    ...list,
    ...keys.flatMap((k) => [0x18, ...text(k), 0x18, ...text(`v-${k}`), 0x00]),
    0x18,
    ...text("ferry"),
    0x00,
  ]);
}

Deno.test("dropFooterKeys() sorts the entries it keeps, long lists too", () => {
  const keys = Array.from({ length: 17 }, (_, i) => `k${String(i).padStart(2, "0")}`);
  deepEqual(
    dropFooterKeys(kvFooter(keys.toReversed()), new Set(["k03"])),
    kvFooter(keys.filter((k) => k !== "k03")),
  );
  deepEqual(
    dropFooterKeys(kvFooter(["b", "ARROW:schema", "a"]), new Set(["ARROW:schema"])),
    kvFooter(["a", "b"]),
  );
  const sorted = kvFooter(["a", "b"]);
  equal(dropFooterKeys(sorted, new Set(["c"])), sorted);
});
