import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { createHash } from "node:crypto";
import { openLocation } from "../stores/registry.ts";
import { getBytes, headOrUndefined, putBytes } from "../stores/ext.ts";
import type { LockRow } from "./schema.ts";
import { type RelocateDestination, relocateLock } from "./relocate.ts";
import type { TransferResult } from "../pipeline/transfer.ts";

const sha = (b: Uint8Array) => "1220" + createHash("sha256").update(b).digest("hex");

async function fixture(name: string): Promise<LockRow[]> {
  const { store } = openLocation(`memory://${name}/x`);
  const rows: LockRow[] = [];
  for (const [item, key] of [["a", "in/a.tif"], ["b", "in/b.json"], ["c", "other/c.tif"]]) {
    const bytes = new TextEncoder().encode(`bytes of ${item}`);
    await putBytes(store, key!, bytes);
    rows.push({
      item_id: item!,
      asset_key: "data",
      store_type: "memory",
      store_container: name,
      store_endpoint_url: null,
      key: key!,
      size_bytes: bytes.length,
      etag: null,
      last_modified: null,
      checksum: sha(bytes),
    });
  }
  return rows;
}

async function collect(batches: AsyncIterable<LockRow[]>): Promise<LockRow[]> {
  const out: LockRow[] = [];
  for await (const rows of batches) out.push(...rows);
  return out;
}

const to = (container: string, key = "out/"): RelocateDestination => ({
  store_type: "memory",
  store_container: container,
  store_endpoint_url: null,
  key,
});

Deno.test("relocateLock() moves rows under the source prefix and carries the others over", async () => {
  const rows = await fixture("reloc-src-1");
  const results: TransferResult[] = [];
  const out = await collect(relocateLock([rows], {
    destination: to("reloc-dst-1"),
    sourcePrefix: "in/",
    onResult: (r) => void results.push(r),
  }));
  deepEqual(out.map((r) => r.key), ["out/a/data.tif", "out/b/data.json", "other/c.tif"]);
  deepEqual(out[2], rows[2]);
  equal(out[0]!.store_container, "reloc-dst-1");
  equal(out[0]!.checksum, rows[0]!.checksum);
  ok(out[0]!.etag);
  ok(out[0]!.last_modified);
  const { store } = openLocation("memory://reloc-dst-1/x");
  equal(new TextDecoder().decode(await getBytes(store, "out/a/data.tif")), "bytes of a");
  deepEqual(results.map((r) => r.status), ["copied", "copied"]);
  // A re-run skips what is already there.
  const again: string[] = [];
  await collect(relocateLock([rows], {
    destination: to("reloc-dst-1"),
    sourcePrefix: "memory://reloc-src-1/in/",
    onResult: (r) => void again.push(r.status),
  }));
  deepEqual(again, ["skipped", "skipped"]);
});

Deno.test("relocateLock() with the source-key layout keeps the source key under the prefix", async () => {
  const rows = await fixture("reloc-src-2");
  const out = await collect(relocateLock([rows], {
    destination: to("reloc-dst-2", "p/"),
    layout: "source-key",
  }));
  deepEqual(out.map((r) => r.key), ["p/in/a.tif", "p/in/b.json", "p/other/c.tif"]);
});

Deno.test("relocateLock() writes nothing for a source that does not match its lock", async () => {
  const rows = await fixture("reloc-src-3");
  const { store } = openLocation("memory://reloc-src-3/x");
  await putBytes(store, "in/a.tif", new TextEncoder().encode("BYTES OF a")); // same size
  await rejects(
    collect(relocateLock([rows], { destination: to("reloc-dst-3") })),
    /Cannot relocate item "a" asset "data": .*sha256/i,
  );
  const dst = openLocation("memory://reloc-dst-3/x").store;
  equal(await headOrUndefined(dst, "out/a/data.tif"), undefined);
  // keepGoing: the bad row keeps its old location, the others move.
  const out = await collect(
    relocateLock([rows], { destination: to("reloc-dst-3"), keepGoing: true, maxWorkers: 1 }),
  );
  deepEqual(out.map((r) => r.key), ["in/a.tif", "out/b/data.json", "out/c/data.tif"]);
  equal(await headOrUndefined(dst, "out/a/data.tif"), undefined);
});

Deno.test("relocateLock() rejects a memory limit below one chunk before moving anything", () => {
  throws(
    () =>
      relocateLock([], {
        destination: to("reloc-dst-4"),
        chunkSizeBytes: 1024 * 1024,
        memoryLimitBytes: 1024,
      }),
    RangeError,
  );
});

Deno.test("relocateLock() starts the largest objects first and keeps the rows in input order", async () => {
  const { store } = openLocation("memory://reloc-src-5/x");
  const rows: LockRow[] = [];
  for (const [item, size] of [["small", 10], ["large", 1000], ["unknown", 500], ["mid", 100]]) {
    const bytes = new Uint8Array(Number(size)).fill(7);
    await putBytes(store, `in/${item}.bin`, bytes);
    rows.push({
      item_id: String(item),
      asset_key: "data",
      store_type: "memory",
      store_container: "reloc-src-5",
      store_endpoint_url: null,
      key: `in/${item}.bin`,
      size_bytes: item === "unknown" ? null : bytes.length,
      etag: null,
      last_modified: null,
      checksum: null,
    });
  }
  const started: string[] = [];
  const out = await collect(relocateLock([rows], {
    destination: to("reloc-dst-5"),
    maxWorkers: 1,
    onResult: (r) => void started.push((r.task.data as { row: LockRow }).row.item_id),
  }));
  deepEqual(started, ["large", "mid", "small", "unknown"]);
  deepEqual(out.map((r) => r.item_id), ["small", "large", "unknown", "mid"]);
  equal(out[2]!.size_bytes, 500);
});
