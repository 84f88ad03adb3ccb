/**
 * The transfer pipeline: one bounded, back-pressured engine for every
 * byte-moving command. Objects move source → {@linkcode HashStream} (SHA-256
 * and MD5 in flight) → {@linkcode ChunkStream} (chunks charged to a
 * {@linkcode MemoryBudget}) → the destination's `put`, at most `maxWorkers`
 * at a time ({@linkcode pooledMap}), retried whole on transient errors, and
 * skipped when the destination already holds them.
 *
 * @example Copying objects within a memory limit
 * ```ts
 * import { runTransfers } from "./mod.ts";
 * import { MemoryStore } from "../stores/memory.ts";
 * import { putBytes } from "../stores/ext.ts";
 * import { equal } from "node:assert/strict";
 * const [a, b] = [new MemoryStore(), new MemoryStore()];
 * await putBytes(a, "k", new Uint8Array(1000));
 * const tasks = [{ source: { store: a, key: "k" }, destination: { store: b, key: "k" } }];
 * for await (const r of runTransfers(tasks, { chunkSizeBytes: 100, memoryLimitBytes: 400 })) {
 *   equal(r.status, "copied");
 *   equal(r.size, 1000);
 * }
 * ```
 *
 * @module
 */
export * from "./memory_budget.ts";
export * from "./pool.ts";
export * from "./chunk_stream.ts";
export * from "./hash_stream.ts";
export * from "./budgeted_put.ts";
export * from "./transfer.ts";
export * from "./digest.ts";
export * from "./gzip_stream.ts";
export * from "./engine.ts";
