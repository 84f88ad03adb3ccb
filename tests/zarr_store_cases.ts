/**
 * Shared cases for {@linkcode ZarrStore} over any object store: a port of
 * zarr-python's `StoreTests` (zarr.testing.store) and a zarrita round trip.
 * Each backend's test calls {@linkcode runZarrStoreCases} in a few lines.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import * as zarr from "zarrita";
import { getBytes, headOrUndefined, putBytes } from "../lib/stores/ext.ts";
import { PermissionDeniedError } from "../lib/stores/errors.ts";
import type { ObjectStore } from "../lib/stores/store.ts";
import type { ZarrStore, ZarrStoreOptions } from "../lib/zarr/store.ts";

/** A fresh, empty zarr store and the object store and prefix under it. */
export interface ZarrFixture {
  /** The store under test. */
  store: ZarrStore;
  /** The object store underneath, to bypass `store` when seeding and checking. */
  objects: ObjectStore;
  /** The store's prefix, normalised (empty or ending with `/`). */
  prefix: string;
}

/** What a backend's test passes in. */
export interface ZarrCaseOptions {
  /** Backend name, prefixed to every case. */
  name: string;
  /** Makes an empty store under a prefix unique to the case. */
  make(options?: ZarrStoreOptions): Promise<ZarrFixture>;
  /** Cases to skip, each with why. */
  skip?: { reason: string; tests: string[] }[];
  /** Deno.test sanitizers (network drivers keep connections alive). */
  sanitize?: boolean;
}

const enc = (s: string) => new TextEncoder().encode(s);

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  return (await Array.fromAsync(it)).sort();
}

/** Writes bypassing the zarr store (zarr-python's `StoreTests.set`). */
function seed(f: ZarrFixture, key: string, bytes: Uint8Array): Promise<unknown> {
  return putBytes(f.objects, f.prefix + key, bytes);
}

/** Reads bypassing the zarr store (zarr-python's `StoreTests.get`). */
function peek(f: ZarrFixture, key: string): Promise<Uint8Array> {
  return getBytes(f.objects, f.prefix + key);
}

/**
 * Registers every case as a `Deno.test`.
 *
 * @param options Backend name, factory, skips.
 */
export function runZarrStoreCases(options: ZarrCaseOptions): void {
  const skipped = new Map<string, string>();
  for (const s of options.skip ?? []) for (const t of s.tests) skipped.set(t, s.reason);
  const sanitize = options.sanitize ?? true;
  const test = (name: string, fn: (f: ZarrFixture) => Promise<void>) => {
    const reason = skipped.get(name);
    Deno.test({
      name: `${options.name}: ${name}`,
      ignore: reason !== undefined,
      sanitizeOps: sanitize,
      sanitizeResources: sanitize,
      fn: async () => {
        const fixture = await options.make();
        try {
          await fn(fixture);
        } finally {
          await fixture.store.withReadOnly(false).clear();
        }
      },
    });
  };

  test("get returns whole values and ranges (offset/length, start/end, offset, suffix)", async (f) => {
    const data = new Uint8Array([1, 2, 3, 4]);
    for (const key of ["c/0", "foo/c/0.0", "foo/0/0"]) {
      await seed(f, key, data);
      deepEqual(await f.store.get(key), data);
      deepEqual(await f.store.get(`/${key}`), data);
      deepEqual(await f.store.getRange(key, { start: 1, end: 4 }), data.subarray(1, 4));
      deepEqual(await f.store.getRange(key, { offset: 1 }), data.subarray(1));
      deepEqual(await f.store.getRange(key, { suffix: 1 }), data.subarray(3));
      deepEqual(await f.store.getRange(`/${key}`, { offset: 1, length: 2 }), data.subarray(1, 3));
      deepEqual(await f.store.getRange(`/${key}`, { suffixLength: 2 }), data.subarray(2));
    }
  });

  test("get of an empty value returns zero bytes, not undefined", async (f) => {
    await seed(f, "c/0", new Uint8Array());
    deepEqual(await f.store.get("c/0"), new Uint8Array());
    equal(await f.store.getSize("c/0"), 0);
  });

  test("get of a missing key returns undefined", async (f) => {
    equal(await f.store.get("/nope/zarr.json"), undefined);
    equal(await f.store.getRange("/nope/c/0", { offset: 0, length: 2 }), undefined);
    equal(await f.store.getRange("/nope/c/0", { suffixLength: 2 }), undefined);
  });

  test("getRange rejects a range of the wrong shape", async (f) => {
    await seed(f, "c/0", new Uint8Array([1, 2, 3, 4]));
    await rejects(
      // deno-lint-ignore no-explicit-any
      f.store.getRange("c/0", [0, 2] as any),
      (e: Error) => e instanceof TypeError && /^Unexpected byte range \[0,2\]/.test(e.message),
    );
    await rejects(f.store.getRange("c/0", { start: 3, end: 1 }), RangeError);
    await rejects(f.store.getRange("c/0", { offset: -1, length: 1 }), RangeError);
  });

  test("getPartialValues returns one result per request, in order", async (f) => {
    await seed(f, "c/0/0", enc("c/0/0"));
    await seed(f, "c/0/1", enc("c/0/1"));
    await seed(f, "zarr.json", enc("zarr.json"));
    const got = await f.store.getPartialValues([
      ["c/0/0", { start: 0, end: 2 }],
      ["c/0/1", { suffix: 2 }],
      ["zarr.json", undefined],
      ["missing", undefined],
    ]);
    deepEqual(got, [enc("c/"), enc("/1"), enc("zarr.json"), undefined]);
  });

  test("getSize returns sizes and throws for a missing key", async (f) => {
    for (const key of ["c/0", "foo/c/0.0", "foo/0/0"]) {
      await seed(f, key, new Uint8Array([1, 2, 3, 4]));
      equal(await f.store.getSize(key), 4);
    }
    await rejects(f.store.getSize("c/1000"), { name: "NotFoundError" });
  });

  test("getSizePrefix sums a folder, not a string prefix", async (f) => {
    const v = new Uint8Array([1, 2, 3, 4]);
    await Promise.all(["c/0/0", "c/0/1", "c/1/0", "c/1/1", "cc/0"].map((k) => f.store.set(k, v)));
    equal(await f.store.getSizePrefix("c"), 16);
    equal(await f.store.getSizePrefix("c/"), 16);
    equal(await f.store.getSizePrefix(""), 20);
  });

  test("set writes values readable around the store", async (f) => {
    for (const key of ["zarr.json", "c/0", "foo/c/0.0", "foo/0/0"]) {
      for (const data of [new Uint8Array([1, 2, 3, 4]), new Uint8Array()]) {
        await f.store.set(key, data);
        deepEqual(await peek(f, key), data);
      }
    }
    await f.store.set("/abs/zarr.json", enc("{}"));
    deepEqual(await peek(f, "abs/zarr.json"), enc("{}"));
  });

  test("setIfNotExists leaves an existing value alone", async (f) => {
    await seed(f, "k", enc("0000"));
    await f.store.setIfNotExists("k", enc("1111"));
    deepEqual(await f.store.get("k"), enc("0000"));
    await f.store.setIfNotExists("k2", enc("1111"));
    deepEqual(await f.store.get("k2"), enc("1111"));
  });

  test("exists, delete, and delete of a missing key", async (f) => {
    equal(await f.store.exists("foo"), false);
    await f.store.set("foo/zarr.json", enc("bar"));
    equal(await f.store.exists("foo/zarr.json"), true);
    await f.store.delete("foo/zarr.json");
    equal(await f.store.exists("foo/zarr.json"), false);
    await f.store.delete("nonexistent_key");
  });

  test("deleteDir removes a folder and nothing beside it", async (f) => {
    await f.store.set("zarr.json", enc("root"));
    await f.store.set("foo-bar/zarr.json", enc("root"));
    await f.store.set("foo/zarr.json", enc("bar"));
    await f.store.set("foo/c/0", enc("chunk"));
    await f.store.deleteDir("foo");
    equal(await f.store.exists("zarr.json"), true);
    equal(await f.store.exists("foo-bar/zarr.json"), true);
    equal(await f.store.exists("foo/zarr.json"), false);
    equal(await f.store.exists("foo/c/0"), false);
  });

  test("isEmpty and clear", async (f) => {
    equal(await f.store.isEmpty(""), true);
    await seed(f, "foo/bar", enc("something"));
    equal(await f.store.isEmpty(""), false);
    equal(await f.store.isEmpty("fo"), true);
    equal(await f.store.isEmpty("foo/"), false);
    equal(await f.store.isEmpty("foo"), false);
    equal(await f.store.isEmpty("spam/"), true);
    await seed(f, "key", enc("something"));
    await f.store.clear();
    equal(await f.store.isEmpty(""), true);
  });

  test("list returns every key relative to the prefix", async (f) => {
    deepEqual(await collect(f.store.list()), []);
    const keys = ["foo/zarr.json", ...Array.from({ length: 10 }, (_, i) => `foo/c/${i}`)];
    await Promise.all(keys.map((k) => f.store.set(k, new Uint8Array())));
    deepEqual(await collect(f.store.list()), keys.sort());
  });

  test("listPrefix matches string prefixes", async (f) => {
    const prefixes = ["", "a/", "a/b/", "a/b/c/"];
    const keys = prefixes.map((p) => p + "zarr.json");
    await Promise.all(keys.map((k) => f.store.set(k, new Uint8Array())));
    for (const p of prefixes) {
      deepEqual(await collect(f.store.listPrefix(p)), keys.filter((k) => k.startsWith(p)).sort());
    }
    deepEqual(await collect(f.store.listPrefix("a/b")), ["a/b/c/zarr.json", "a/b/zarr.json"]);
  });

  test("listDir yields the names one level down", async (f) => {
    deepEqual(await collect(f.store.listDir("")), []);
    const roots: [string, string[]][] = [
      ["foo", ["foo/zarr.json", "foo/c/1"]],
      ["foo/bar", ["foo/bar/foobar_first_child", "foo/bar/foobar_second_child/zarr.json"]],
    ];
    for (const [root, keys] of roots) {
      deepEqual(await collect(f.store.listDir(root)), []);
      await Promise.all(keys.map((k) => f.store.set(k, enc("x"))));
      const expected = [...new Set(keys.map((k) => k.slice(root.length + 1).split("/")[0]!))];
      deepEqual(await collect(f.store.listDir(root)), expected.sort());
      deepEqual(await collect(f.store.listDir(`${root}/`)), expected.sort());
    }
    deepEqual(await f.store.listDirEntries("foo"), { keys: ["zarr.json"], prefixes: ["bar", "c"] });
  });

  test("a read-only store refuses writes with PermissionDeniedError", async (f) => {
    await f.store.set("foo", enc("bar"));
    const reader = f.store.withReadOnly(true);
    equal(reader.readOnly, true);
    for (
      const attempt of [
        () => reader.set("foo", enc("baz")),
        () => reader.setIfNotExists("new", enc("baz")),
        () => reader.delete("foo"),
        () => reader.deleteDir(""),
        () => reader.clear(),
      ]
    ) {
      await rejects(
        attempt(),
        (e: Error) =>
          e instanceof PermissionDeniedError && /^Zarr store is read-only/.test(e.message),
      );
    }
    deepEqual(await reader.get("foo"), enc("bar"));
    equal(await headOrUndefined(f.objects, f.prefix + "new"), undefined);
    const writer = reader.withReadOnly(false);
    await writer.set("foo", enc("baz"));
    await writer.delete("foo");
  });

  test("zarrita writes and reads a group and a float32 zstd array", async (f) => {
    await zarritaRoundTrip(f.store);
    const names = await collect(f.store.listDir(""));
    deepEqual(names, ["temps", "zarr.json"]);
  });
}

/**
 * Creates a group and a float32 array (zstd codec) with zarrita, writes the
 * whole array and then a region, and checks both read back equal.
 *
 * @param store Any zarrita-compatible store.
 * @param options Shape and chunk shape.
 */
export async function zarritaRoundTrip(
  store: zarr.AsyncMutable,
  options: { shape?: [number, number]; chunkShape?: [number, number] } = {},
): Promise<void> {
  const shape = options.shape ?? [20, 30];
  const chunkShape = options.chunkShape ?? [8, 8];
  const group = await zarr.create(zarr.root(store), { attributes: { title: "ferry zarr" } });
  const arr = await zarr.create(group.resolve("temps"), {
    shape,
    chunkShape,
    dtype: "float32",
    fillValue: 0,
    dimensionNames: ["y", "x"],
    attributes: { units: "K" },
    codecs: [
      { name: "bytes", configuration: { endian: "little" } },
      { name: "zstd", configuration: { level: 3, checksum: false } },
    ],
  });
  const [h, w] = shape;
  const whole = Float32Array.from({ length: h * w }, (_, i) => i * 0.5 - 7);
  await zarr.set(arr, null, { data: whole, shape, stride: [w, 1] });

  const reopened = await zarr.open(zarr.root(store).resolve("temps"), { kind: "array" });
  ok(reopened.is("float32"));
  deepEqual((await zarr.get(reopened)).data, whole);

  const rh = 3, rw = 14;
  const region = Float32Array.from({ length: rh * rw }, (_, i) => 1000 + i);
  await zarr.set(arr, [zarr.slice(2, 2 + rh), zarr.slice(3, 3 + rw)], {
    data: region,
    shape: [rh, rw],
    stride: [rw, 1],
  });
  const expected = whole.slice();
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) expected[(2 + y) * w + 3 + x] = region[y * rw + x]!;
  }
  deepEqual((await zarr.get(reopened)).data, expected);
  const readRegion = await zarr.get(reopened, [zarr.slice(2, 2 + rh), zarr.slice(3, 3 + rw)]);
  deepEqual(readRegion.data, region);

  const g = await zarr.open(zarr.root(store), { kind: "group" });
  deepEqual(g.attrs, { title: "ferry zarr" });
}
