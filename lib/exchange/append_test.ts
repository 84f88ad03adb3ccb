import { deepEqual, equal, ok } from "node:assert/strict";
import { FileStore, getBytes, listAll, MemoryStore, putBytes } from "../stores/mod.ts";
import type { GetOptions, ObjectStore } from "../stores/mod.ts";
import { appendRefs, type RootUpdate } from "./append.ts";
import { readManifest, readManifestFile } from "./manifest_reader.ts";
import { pendingRefsPrefix } from "./keys.ts";
import { writeManifest } from "./manifest_writer.ts";
import { createShard } from "./shard_create.ts";
import { getObject } from "./objects.ts";

async function hammer(store: ObjectStore, rootUpdate: RootUpdate, appenders: number, each: number) {
  await Promise.all(Array.from({ length: appenders }, async (_, a) => {
    for (let i = 0; i < each; i++) {
      await writeManifest(store, "c/manifest.jsonl", [{ kind: "file", key: `${a}/${i}` }], {
        mode: "append_parts",
        rootUpdate,
      });
    }
  }));
  const keys = new Set<string>();
  for await (const e of readManifest(store, "c/manifest.jsonl")) keys.add(String(e.key));
  equal(keys.size, appenders * each);
  let refs = 0;
  for await (const e of readManifestFile(store, "c/manifest.jsonl")) {
    if (e.kind === "manifest_ref") refs++;
  }
  equal(refs, appenders * each, "the root alone holds every ref");
  deepEqual((await listAll(store, "c/manifests/manifest.jsonl.")).map((e) => e.kind), []);
}

for (const rootUpdate of ["cas", "lock"] as const) {
  Deno.test(`appendRefs (${rootUpdate}) on files: 8 concurrent appenders x 20 lose nothing`, async () => {
    const root = await Deno.makeTempDir({ prefix: "ferry-append-" });
    try {
      await hammer(new FileStore({ root }), rootUpdate, 8, 20);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("appendRefs (lock) on memory: 8 concurrent appenders x 20 lose nothing", async () => {
  await hammer(new MemoryStore(), "lock", 8, 20);
});

Deno.test("readManifest sees a crashed appender's pending refs; the next append merges them", async () => {
  const store = new MemoryStore();
  const text = (s: string) => new TextEncoder().encode(s);
  await writeManifest(store, "m/manifest.jsonl", [{ kind: "file", key: "a" }], {
    mode: "append_parts",
  });
  await putBytes(store, "m/manifests/p-crashed.jsonl", text('{"kind":"file","key":"b"}\n'));
  await putBytes(
    store,
    `${pendingRefsPrefix("m/manifest.jsonl")}20260101T000000000Z-x.jsonl`,
    text('{"kind":"manifest_ref","key":"m/manifests/p-crashed.jsonl"}\n'),
  );
  const keys = async () =>
    (await Array.fromAsync(readManifest(store, "m/manifest.jsonl"))).map((e) => e.key);
  deepEqual(await keys(), ["a", "b"]);
  await appendRefs(store, "m/manifest.jsonl", ["m/manifests/p-crashed.jsonl"], {
    rootUpdate: "lock",
  });
  deepEqual(await keys(), ["a", "b"]);
  ok(new TextDecoder().decode(await getBytes(store, "m/manifest.jsonl")).includes("p-crashed"));
  deepEqual(await listAll(store, pendingRefsPrefix("m/manifest.jsonl")), []);
});

Deno.test("getObject reads a member of an uncompressed tar by byte range", async () => {
  const ranges: unknown[] = [];
  const inner = new MemoryStore();
  const store: ObjectStore = {
    head: (key) => inner.head(key),
    get: (key: string, options: GetOptions = {}) => {
      ranges.push(options.range ?? "whole");
      return inner.get(key, options);
    },
    put: (key, body, options) => inner.put(key, body, options),
    delete: (key) => inner.delete(key),
    list: (prefix, options) => inner.list(prefix, options),
  };
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  await createShard(store, "s.tar", [
    { source: big, member_path: "big.bin" },
    { source: new TextEncoder().encode("tail"), member_path: "t.txt" },
  ], { compression: null });
  ranges.length = 0;
  const { body, entry } = await getObject(store, "s.tar#t.txt");
  equal(await new Response(body).text(), "tail");
  equal(entry.size_bytes, 4);
  deepEqual(ranges.at(-1), { offset: Number(entry.offset_bytes) - 512, length: 516 });
});
