/**
 * Manifest exchange, byte-compatible with the Python library s3exchange
 * 0.1.x, on every ferry store: JSONL manifests of objects, tar shards and
 * references, written in parts (concurrent appenders lose nothing), read
 * with references resolved and shards expanded as streams, compacted and
 * deleted; shards created by streaming many sources into one archive.
 *
 * @example Objects, a shard and an append, read back
 * ```ts
 * import { createShard, ManifestWriter, listManifestFiles } from "./mod.ts";
 * import { MemoryStore } from "../stores/mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new MemoryStore();
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * const writer = new ManifestWriter(store, "job/manifest.jsonl");
 * await writer.putObject("job/a.txt", bytes("a"));
 * await writer.add(await createShard(store, "job/shards/shard-000001.tar.gz", [
 *   { source: bytes("b"), member_path: "b.txt" },
 * ]));
 * await writer.close();
 * const keys = [];
 * for await (const entry of listManifestFiles(store, "job/manifest.jsonl")) keys.push(entry.key);
 * deepEqual(keys, ["job/a.txt", "job/shards/shard-000001.tar.gz#b.txt"]);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./entries.ts";
export * from "./keys.ts";
export type { ExchangeOptions } from "./options.ts";
export * from "./manifest_reader.ts";
export * from "./manifest_writer.ts";
export { type AppendOptions, appendRefs, type AppendResult, type RootUpdate } from "./append.ts";
export { type RootLock, type RootLockOptions, tryRootLock } from "./root_lock.ts";
export * from "./tar.ts";
export * from "./shards.ts";
export * from "./shard_create.ts";
export * from "./objects.ts";
export * from "./delete.ts";
export * from "./compact.ts";
