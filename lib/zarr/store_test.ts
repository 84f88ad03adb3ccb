import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";
import { FileStore } from "../stores/file.ts";
import { MemoryStore } from "../stores/memory.ts";
import { PermissionDeniedError, TransientError } from "../stores/errors.ts";
import type { GetOptions, ObjectStore } from "../stores/store.ts";
import { runZarrStoreCases, zarritaRoundTrip } from "../../tests/zarr_store_cases.ts";
import { ZarrStore } from "./store.ts";

let counter = 0;

runZarrStoreCases({
  name: "ZarrStore over MemoryStore",
  make(options) {
    const objects = new MemoryStore();
    const store = new ZarrStore(objects, { prefix: "p/q", ...options });
    return Promise.resolve({ store, objects, prefix: store.prefix });
  },
});

const fileRoot = await Deno.makeTempDir({ prefix: "ferry-zarr-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(fileRoot, { recursive: true });
  } catch { /* already gone */ }
});

runZarrStoreCases({
  name: "ZarrStore over FileStore",
  make(options) {
    const objects = new FileStore({ root: fileRoot });
    const store = new ZarrStore(objects, { prefix: `case-${counter++}`, ...options });
    return Promise.resolve({ store, objects, prefix: store.prefix });
  },
});

runZarrStoreCases({
  name: "ZarrStore over MemoryStore without a prefix",
  make(options) {
    const objects = new MemoryStore();
    const store = new ZarrStore(objects, options);
    return Promise.resolve({ store, objects, prefix: store.prefix });
  },
});

/** A MemoryStore whose gets take `delayMs` and which records how many run at once. */
class SlowStore extends MemoryStore {
  inFlight = 0;
  maxInFlight = 0;
  gets = 0;
  constructor(readonly delayMs: number) {
    super();
  }
  override async get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    this.gets++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      return await super.get(key, options);
    } finally {
      this.inFlight--;
    }
  }
}

Deno.test("ZarrStore.get() runs many zarrita chunk reads concurrently, bounded by maxConcurrency", async () => {
  const objects = new SlowStore(5);
  const writer = new ZarrStore(objects);
  const arr = await zarr.create(zarr.root(writer).resolve("a"), {
    shape: [64],
    chunkShape: [1],
    dtype: "int32",
  });
  await zarr.set(arr, null, {
    data: Int32Array.from({ length: 64 }, (_, i) => i),
    shape: [64],
    stride: [1],
  });

  for (const limit of [1, 4, 16]) {
    objects.maxInFlight = 0;
    objects.gets = 0;
    const store = new ZarrStore(objects, { maxConcurrency: limit });
    const read = await zarr.open(zarr.root(store).resolve("a"), { kind: "array" });
    ok(read.is("int32"));
    const got = await zarr.get(read);
    deepEqual(got.data, Int32Array.from({ length: 64 }, (_, i) => i));
    ok(objects.gets >= 64, `expected a get per chunk, saw ${objects.gets}`);
    equal(objects.maxInFlight, limit, `limit ${limit}: ${objects.maxInFlight} in flight at most`);
  }
});

Deno.test("ZarrStore.set() bounds concurrent writes of zarrita chunks", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  class SlowPut extends MemoryStore {
    override async put(...args: Parameters<MemoryStore["put"]>) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 3));
        return await super.put(...args);
      } finally {
        inFlight--;
      }
    }
  }
  const store = new ZarrStore(new SlowPut(), { maxConcurrency: 3 });
  const arr = await zarr.create(zarr.root(store), { shape: [40], chunkShape: [2], dtype: "uint8" });
  await zarr.set(arr, null, { data: new Uint8Array(40).fill(7), shape: [40], stride: [1] });
  equal(maxInFlight, 3);
  deepEqual((await zarr.get(arr)).data, new Uint8Array(40).fill(7));
});

Deno.test("ZarrStore works with zarrita under a prefix of a FileStore", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = new ZarrStore(new FileStore({ root }), { prefix: "/deep/er/" });
    await zarritaRoundTrip(store);
    ok((await Deno.stat(join(root, "deep/er/temps/zarr.json"))).isFile);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function treeOf(dir: string, base = dir): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      for (const [k, v] of await treeOf(path, base)) out.set(k, v);
    } else {
      out.set(path.slice(base.length + 1), await Deno.readFile(path));
    }
  }
  return out;
}

Deno.test("ZarrStore over FileStore writes files byte-identical to zarrita's FileSystemStore", async () => {
  const ours = await Deno.makeTempDir();
  const theirs = await Deno.makeTempDir();
  try {
    await zarritaRoundTrip(new ZarrStore(new FileStore({ root: ours })));
    await zarritaRoundTrip(new FileSystemStore(theirs));
    const a = await treeOf(ours);
    const b = await treeOf(theirs);
    deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    ok(a.size > 10, `expected a group, an array and its chunks, got ${a.size} files`);
    for (const [path, bytes] of a) deepEqual(bytes, b.get(path), path);
  } finally {
    await Deno.remove(ours, { recursive: true });
    await Deno.remove(theirs, { recursive: true });
  }
});

Deno.test("ZarrStore reads what zarrita's FileSystemStore wrote", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const theirs = new FileSystemStore(dir);
    const arr = await zarr.create(zarr.root(theirs), {
      shape: [5],
      chunkShape: [2],
      dtype: "float64",
    });
    await zarr.set(arr, null, { data: new Float64Array([1, 2, 3, 4, 5]), shape: [5], stride: [1] });
    const ours = new ZarrStore(new FileStore({ root: dir }), { readOnly: true });
    const read = await zarr.open(zarr.root(ours), { kind: "array" });
    ok(read.is("float64"));
    deepEqual((await zarr.get(read)).data, new Float64Array([1, 2, 3, 4, 5]));
    deepEqual((await Array.fromAsync(ours.list())).sort(), ["c/0", "c/1", "c/2", "zarr.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ZarrStore.get() throws errors other than a missing key", async () => {
  class Broken extends MemoryStore {
    override get(key: string): Promise<ReadableStream<Uint8Array>> {
      return Promise.reject(new TransientError("Server error: 503", { key }));
    }
    override head(key: string): Promise<never> {
      return Promise.reject(new PermissionDeniedError("Forbidden: 403", { key }));
    }
  }
  const store = new ZarrStore(new Broken());
  await rejects(store.get("/zarr.json"), TransientError);
  await rejects(store.getRange("/zarr.json", { suffixLength: 3 }), TransientError);
  await rejects(store.exists("zarr.json"), PermissionDeniedError);
  await rejects(store.getSize("zarr.json"), PermissionDeniedError);
});

Deno.test("ZarrStore.get() throws an error raised while the body streams", async () => {
  const failing: ObjectStore = Object.assign(new MemoryStore(), {
    get: () =>
      Promise.resolve(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array([1]));
            c.error(new TransientError("Connection reset"));
          },
        }),
      ),
  });
  await rejects(new ZarrStore(failing).get("/c/0"), /Connection reset/);
});

Deno.test("ZarrStore() rejects a bad prefix and a bad maxConcurrency", () => {
  const objects = new MemoryStore();
  for (const prefix of ["a//b", "a/../b", "./a"]) {
    throws(
      () => new ZarrStore(objects, { prefix }),
      (e: Error) =>
        e instanceof TypeError &&
        e.message.startsWith(`Invalid zarr store prefix ${JSON.stringify(prefix)}`),
    );
  }
  for (const maxConcurrency of [0, -1, 1.5, NaN]) {
    throws(
      () => new ZarrStore(objects, { maxConcurrency }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.startsWith(`Invalid concurrency limit ${maxConcurrency}`),
    );
  }
  equal(new ZarrStore(objects, { prefix: "/a/b/" }).prefix, "a/b/");
  equal(new ZarrStore(objects, { prefix: "/" }).prefix, "");
});

Deno.test("ZarrStore methods reject bad keys and write nothing", async () => {
  const objects = new MemoryStore();
  const store = new ZarrStore(objects, { prefix: "p" });
  for (const key of ["", "/", "a//b", "a/./b", "../x", "a/"]) {
    await rejects(
      store.set(key, new Uint8Array([1])),
      (e: Error) =>
        e instanceof TypeError && e.message.startsWith(`Invalid zarr key ${JSON.stringify(key)}`),
    );
    await rejects(store.get(key), TypeError);
    await rejects(store.delete(key), TypeError);
  }
  deepEqual(await Array.fromAsync(objects.list("")), []);
});

Deno.test("ZarrStore.toString() names the store, prefix and mode", () => {
  const store = new ZarrStore(new MemoryStore({ name: "zs" }), { prefix: "x" });
  equal(String(store), `ZarrStore(MemoryStore(zs), "x/")`);
  equal(String(store.withReadOnly(true)), `ZarrStore(MemoryStore(zs), "x/", read-only)`);
});
