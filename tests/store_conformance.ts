/**
 * One conformance suite for every store driver. A driver's test calls
 * {@linkcode runStoreConformance} with a factory; skipped cases name a reason.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { getBytes, listAll, putBytes, readAll } from "../lib/stores/ext.ts";
import { ConflictError, NotFoundError, NotSupportedError } from "../lib/stores/errors.ts";
import { isConditionalPutter, type ObjectStore } from "../lib/stores/store.ts";
import { streamOf } from "../lib/stores/ext.ts";

/** What a driver's test passes in. */
export interface ConformanceOptions {
  /** The driver's name, prefixed to every case. */
  name: string;
  /**
   * Makes a store for one case. `listingPageSize` asks for small listing
   * pages, so paging is exercised with few objects.
   */
  make(options: { listingPageSize: number }): Promise<ObjectStore> | ObjectStore;
  /** Cleans up after all cases. */
  cleanup?: () => Promise<void>;
  /** Cases to skip, each with why. */
  skip?: { reason: string; tests: string[] }[];
  /** Size of the large streamed object. @default 24 MiB */
  largeObjectBytes?: number;
  /** Whether the driver can write at all (https cannot). @default true */
  writable?: boolean;
  /** For read-only drivers: writes the fixture objects through another path. */
  seed?: (key: string, bytes: Uint8Array) => Promise<void>;
}

const PAGE = 7;

/** Deterministic pseudo-random bytes, produced as a stream of `chunk`-sized parts. */
export function patternStream(size: number, seed = 1, chunk = 1 << 20): ReadableStream<Uint8Array> {
  let produced = 0;
  let state = seed >>> 0 || 1;
  return new ReadableStream({
    pull(controller) {
      if (produced >= size) {
        controller.close();
        return;
      }
      const n = Math.min(chunk, size - produced);
      const out = new Uint8Array(n);
      const words = new Uint32Array(out.buffer, 0, n >>> 2);
      for (let i = 0; i < words.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        words[i] = state >>> 0;
      }
      for (let i = words.length * 4; i < n; i++) out[i] = i & 0xff;
      produced += n;
      controller.enqueue(out);
    },
  }, { highWaterMark: 0 });
}

/** SHA-256 hex of a stream, consumed chunk by chunk. */
export async function sha256Of(stream: ReadableStream<Uint8Array>): Promise<[string, number]> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return [hash.digest("hex"), size];
}

const text = (s: string) => new TextEncoder().encode(s);

/**
 * Registers the conformance cases as Deno tests.
 *
 * @param options The driver under test.
 */
export function runStoreConformance(options: ConformanceOptions): void {
  const skipped = new Map<string, string>();
  for (const s of options.skip ?? []) for (const t of s.tests) skipped.set(t, s.reason);
  const writable = options.writable ?? true;
  const runId = `conf-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}/`;
  const seed = async (store: ObjectStore, key: string, bytes: Uint8Array) => {
    if (writable) await putBytes(store, key, bytes);
    else await options.seed!(key, bytes);
  };

  const cases: [string, (store: ObjectStore, prefix: string) => Promise<void>][] = [
    ["empty object round-trips", async (store, p) => {
      await seed(store, `${p}empty`, new Uint8Array(0));
      equal((await store.head(`${p}empty`)).size, 0);
      equal((await getBytes(store, `${p}empty`)).byteLength, 0);
    }],
    ["1-byte object round-trips", async (store, p) => {
      await seed(store, `${p}one`, new Uint8Array([42]));
      const meta = await store.head(`${p}one`);
      equal(meta.size, 1);
      ok(meta.lastModified instanceof Date, "lastModified is a Date");
      deepEqual(await getBytes(store, `${p}one`), new Uint8Array([42]));
    }],
    ["large object streams both ways, size unknown and known", async (store, p) => {
      const size = options.largeObjectBytes ?? 24 * 1024 * 1024;
      const [expected] = await sha256Of(patternStream(size, 7));
      if (writable) {
        const unknown = await store.put(`${p}large-unknown`, patternStream(size, 7));
        equal(unknown.size, size);
        await store.put(`${p}large-known`, patternStream(size, 7), { size });
      } else {
        await options.seed!(`${p}large-unknown`, await readAll(patternStream(size, 7)));
        await options.seed!(`${p}large-known`, await readAll(patternStream(size, 7)));
      }
      for (const key of [`${p}large-unknown`, `${p}large-known`]) {
        equal((await store.head(key)).size, size);
        deepEqual(await sha256Of(await store.get(key)), [expected, size]);
      }
    }],
    ["ranges: offset+length, open end, suffix, empty, past the end", async (store, p) => {
      await seed(store, `${p}r`, text("0123456789"));
      const range = async (r: Parameters<ObjectStore["get"]>[1]) =>
        new TextDecoder().decode(await readAll(await store.get(`${p}r`, r)));
      equal(await range({ range: { offset: 2, length: 3 } }), "234");
      equal(await range({ range: { offset: 7 } }), "789");
      equal(await range({ range: { suffix: 4 } }), "6789");
      equal(await range({ range: { offset: 3, length: 0 } }), "");
      equal(await range({ range: { offset: 8, length: 10 } }), "89");
    }],
    ["missing key: head and get throw NotFoundError", async (store, p) => {
      await rejects(store.head(`${p}missing`), NotFoundError);
      await rejects(store.get(`${p}missing`), NotFoundError);
    }],
    ["overwrite replaces the whole object", async (store, p) => {
      await seed(store, `${p}o`, text("first version, longer"));
      await seed(store, `${p}o`, text("second"));
      equal(new TextDecoder().decode(await getBytes(store, `${p}o`)), "second");
    }],
    ["listing without delimiter pages past the page size", async (store, p) => {
      const keys = Array.from(
        { length: PAGE * 3 + 2 },
        (_, i) => `${p}l/${String(i).padStart(3, "0")}`,
      );
      await Promise.all(keys.map((k) => seed(store, k, text(k))));
      const listed = await listAll(store, `${p}l/`);
      deepEqual(listed.map((e) => e.kind === "object" ? e.key : e.prefix), keys);
      const first = listed[0];
      ok(first?.kind === "object" && first.size === keys[0]!.length, "listing reports sizes");
    }],
    ["listing with delimiter groups prefixes, across pages", async (store, p) => {
      const keys = [`${p}d/a`, `${p}d/b/1`, `${p}d/b/2`, `${p}d/c`, `${p}d/e/x/y`];
      for (let i = 0; i < PAGE * 2; i++) keys.push(`${p}d/f${String(i).padStart(2, "0")}/z`);
      await Promise.all(keys.map((k) => seed(store, k, text("x"))));
      const listed = (await listAll(store, `${p}d/`, "/")).map((e) =>
        e.kind === "object" ? e.key : `prefix:${e.prefix}`
      );
      const expected = [
        `${p}d/a`,
        `prefix:${p}d/b/`,
        `${p}d/c`,
        `prefix:${p}d/e/`,
        ...Array.from(
          { length: PAGE * 2 },
          (_, i) => `prefix:${p}d/f${String(i).padStart(2, "0")}/`,
        ),
      ];
      deepEqual(listed, expected);
      deepEqual((await listAll(store, `${p}d/b`)).map((e) => e.kind === "object" && e.key), [
        `${p}d/b/1`,
        `${p}d/b/2`,
      ]);
      deepEqual(await listAll(store, `${p}nothing-here/`), []);
    }],
    ["keys with spaces, unicode, % and reserved characters", async (store, p) => {
      const names = [
        "a b.txt",
        "ünï cødé/日本.bin",
        "100%.csv",
        "q?x#y&z=1+2.txt",
        "tilde~semi;colon",
      ];
      for (const name of names) await seed(store, `${p}k/${name}`, text(name));
      for (const name of names) {
        equal(new TextDecoder().decode(await getBytes(store, `${p}k/${name}`)), name);
        equal((await store.head(`${p}k/${name}`)).size, text(name).byteLength);
      }
      const listed = (await listAll(store, `${p}k/`)).map((e) => e.kind === "object" && e.key);
      deepEqual(listed.sort(), names.map((n) => `${p}k/${n}`).sort());
    }],
    ["delete removes, and deleting a missing key is fine", async (store, p) => {
      await seed(store, `${p}del`, text("x"));
      await store.delete(`${p}del`);
      await rejects(store.head(`${p}del`), NotFoundError);
      await store.delete(`${p}del`);
      await store.delete(`${p}never-existed`);
    }],
    ["concurrent puts: distinct keys all land, one key ends whole", async (store, p) => {
      const bodies = Array.from({ length: 12 }, (_, i) => text(`body-${i}-`.repeat(1000 + i)));
      await Promise.all(bodies.map((b, i) => putBytes(store, `${p}c/${i}`, b)));
      for (let i = 0; i < bodies.length; i++) {
        deepEqual(await getBytes(store, `${p}c/${i}`), bodies[i]);
      }
      await Promise.all(bodies.map((b) => putBytes(store, `${p}c/same`, b)));
      const final = await getBytes(store, `${p}c/same`);
      ok(bodies.some((b) => b.byteLength === final.byteLength && deepEqualBytes(b, final)));
    }],
    [
      "create-only put: an existing key is refused; of concurrent creators one wins where the store says its create is exclusive",
      async (store, p) => {
        if (!isConditionalPutter(store)) return;
        const create = (key: string, body: string) =>
          store.putIf(key, streamOf(text(body)), { ifNoneMatch: "*" }, { size: text(body).length });
        try {
          await create(`${p}cond/one`, "first");
        } catch (error) {
          ok(error instanceof NotSupportedError, String(error));
          await rejects(store.head(`${p}cond/one`), NotFoundError);
          return;
        }
        await rejects(create(`${p}cond/one`, "second"), ConflictError);
        equal(new TextDecoder().decode(await getBytes(store, `${p}cond/one`)), "first");
        if (!store.exclusiveCreate) return;
        for (let round = 0; round < 3; round++) {
          const key = `${p}cond/race-${round}`;
          const outcomes = await Promise.allSettled(
            Array.from({ length: 8 }, (_, i) => create(key, `writer-${i}`)),
          );
          const won = outcomes.flatMap((o, i) => o.status === "fulfilled" ? [i] : []);
          equal(won.length, 1, `round ${round}: ${won.length} creators won`);
          for (const o of outcomes) {
            if (o.status === "rejected") ok(o.reason instanceof ConflictError, String(o.reason));
          }
          equal(new TextDecoder().decode(await getBytes(store, key)), `writer-${won[0]}`);
        }
      },
    ],
    ["failed upload leaves nothing at the key", async (store, p) => {
      const failing = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(1024));
        },
        pull(controller) {
          controller.error(new Error("source broke"));
        },
      });
      await rejects(store.put(`${p}broken`, failing));
      await rejects(store.head(`${p}broken`), NotFoundError);
    }],
  ];

  for (const [caseName, fn] of cases) {
    const reason = skipped.get(caseName) ??
      (!writable &&
          [
            "concurrent puts: distinct keys all land, one key ends whole",
            "create-only put: an existing key is refused; of concurrent creators one wins where the store says its create is exclusive",
            "failed upload leaves nothing at the key",
            "delete removes, and deleting a missing key is fine",
          ]
            .includes(caseName)
        ? "read-only driver"
        : undefined);
    Deno.test({
      name: `${options.name}: ${caseName}${reason ? ` (skipped: ${reason})` : ""}`,
      ignore: reason !== undefined,
      sanitizeOps: false,
      sanitizeResources: false,
      async fn() {
        const store = await options.make({ listingPageSize: PAGE });
        const prefix = `${runId}${caseName.replace(/[^a-z0-9]+/gi, "-").slice(0, 30)}/`;
        await fn(store, prefix);
      },
    });
  }
  if (options.cleanup) {
    Deno.test({
      name: `${options.name}: cleanup`,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: options.cleanup,
    });
  }
}

function deepEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
