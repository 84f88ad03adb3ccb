import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { MemoryStore } from "../stores/memory.ts";
import { putBytes } from "../stores/ext.ts";
import { PermissionDeniedError } from "../stores/errors.ts";
import type { LockRow } from "./schema.ts";
import type { ObjectStore } from "../stores/store.ts";
import { CountingStore } from "../pipeline/_testing.ts";
import { compareFacts, validateLock } from "./validate.ts";

function row(item: string, key: string, facts: Partial<LockRow> = {}): LockRow {
  return {
    item_id: item,
    asset_key: "data",
    store_type: "memory",
    store_container: "v",
    store_endpoint_url: null,
    key,
    size_bytes: null,
    etag: null,
    last_modified: null,
    checksum: null,
    ...facts,
  };
}

/** Objects d/0..n-1 with rows locking their HEAD facts (and checksums). */
async function fixture(n: number): Promise<{ store: CountingStore; rows: LockRow[] }> {
  const inner = new MemoryStore();
  const rows: LockRow[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = new TextEncoder().encode(`object ${i}`);
    await putBytes(inner, `d/${i}.bin`, bytes);
    const meta = await inner.head(`d/${i}.bin`);
    rows.push(row(`item-${String(i).padStart(3, "0")}`, `d/${i}.bin`, {
      size_bytes: meta.size,
      etag: meta.etag ?? null,
      last_modified: meta.lastModified?.toISOString() ?? null,
      checksum: "1220" + createHash("sha256").update(bytes).digest("hex"),
    }));
  }
  return { store: new CountingStore(inner), rows };
}

const using = (store: ObjectStore) => ({
  resolve: (l: { key: string }) => ({ store, key: l.key }),
});

Deno.test("validateLock() answers a large group from one listing, no HEADs", async () => {
  const { store, rows } = await fixture(20);
  const { results, stats } = await validateLock([rows], using(store));
  equal(results.length, 20);
  ok(results.every((r) => r.valid));
  equal(store.calls.list, 1);
  equal(store.calls.head, 0);
  equal(stats.fromListing, 20);
});

Deno.test("validateLock() HEADs each row of a small group", async () => {
  const { store, rows } = await fixture(5);
  const { results, stats } = await validateLock([rows], using(store));
  ok(results.every((r) => r.valid));
  equal(store.calls.list, 0);
  equal(store.calls.head, 5);
  equal(stats.heads, 5);
});

Deno.test("validateLock() re-asks a listing mismatch with HEAD and reports it", async () => {
  const { store, rows } = await fixture(12);
  await putBytes(store.inner, "d/3.bin", new TextEncoder().encode("object 3 + more"));
  await store.inner.delete("d/4.bin");
  const { results } = await validateLock([rows], { ...using(store), listingThreshold: 4 });
  const bad = results.filter((r) => !r.valid);
  equal(bad.length, 2);
  equal(bad[0]!.item_id, "item-003");
  ok(bad[0]!.errors.includes("size mismatch: expected 8, actual 15"), bad[0]!.errors.join());
  ok(bad[0]!.errors.some((e) => e.startsWith("etag mismatch: ")));
  deepEqual(bad[1]!.errors, ["not found"]);
  equal(store.calls.head, 2); // only the two rows the listing could not confirm
});

Deno.test("validateLock() with deep finds same-size different bytes", async () => {
  const { store, rows } = await fixture(3);
  await putBytes(store.inner, "d/1.bin", new TextEncoder().encode("OBJECT 1"));
  const rowsWithoutEtag = rows.map((r) => ({ ...r, etag: null, last_modified: null }));
  const shallow = await validateLock([rowsWithoutEtag], using(store));
  ok(shallow.results.every((r) => r.valid));
  const { results } = await validateLock([rowsWithoutEtag], { ...using(store), deep: true });
  equal(results[1]!.valid, false);
  ok(
    results[1]!.errors[0]!.startsWith(
      `checksum mismatch: expected ${rows[1]!.checksum}, actual 1220`,
    ),
  );
  equal(store.calls.get, 3);
});

Deno.test("validateLock() aborts on a failed request unless keepGoing", async () => {
  const { rows } = await fixture(2);
  const denied = new CountingStore(new MemoryStore());
  denied.head = (key) => Promise.reject(new PermissionDeniedError("Access denied", { key }));
  await rejects(
    validateLock([rows], using(denied)),
    /Cannot validate item "item-000".*Access denied/,
  );
  const { results } = await validateLock([rows], { ...using(denied), keepGoing: true });
  equal(results.length, 2);
  ok(results.every((r) => !r.valid && /Access denied/.test(r.errors[0]!)));
});

Deno.test("validateLock() filters by item ids and asset keys and sorts the output", async () => {
  const { store, rows } = await fixture(4);
  const mixed = [rows[3]!, { ...rows[0]!, asset_key: "thumb" }, rows[0]!, rows[2]!, rows[1]!];
  const { results } = await validateLock([mixed.slice(0, 2), mixed.slice(2)], using(store));
  deepEqual(results.map((r) => `${r.item_id}/${r.asset_key}`), [
    "item-000/data",
    "item-000/thumb",
    "item-001/data",
    "item-002/data",
    "item-003/data",
  ]);
  deepEqual(Object.keys(results[0]!), [
    "item_id",
    "asset_key",
    "store_type",
    "store_container",
    "key",
    "valid",
    "errors",
  ]);
  const picked = await validateLock([mixed], {
    ...using(store),
    itemIds: ["item-000", "item-002"],
    assetKeys: ["data"],
  });
  deepEqual(picked.results.map((r) => r.item_id), ["item-000", "item-002"]);
});

Deno.test("compareFacts() takes times within a second as equal (HEAD rounds, listings have fractions)", () => {
  const locked = row("a", "k", { last_modified: "2024-05-01T10:00:00.000Z" });
  deepEqual(
    compareFacts(locked, { key: "k", size: 1, lastModified: new Date("2024-05-01T10:00:01Z") }),
    [],
  );
  deepEqual(
    compareFacts(locked, { key: "k", size: 1, lastModified: new Date("2024-05-01T10:00:02Z") }),
    ["last_modified mismatch: expected 2024-05-01T10:00:00.000Z, actual 2024-05-01T10:00:02+00:00"],
  );
});
