/**
 * Compaction: a manifest with its references resolved written as one flat
 * manifest, shards kept or expanded into their members' file entries, with
 * s3exchange's report. The source is streamed into the destination's put.
 *
 * @module
 */
import type { ObjectStore } from "../stores/mod.ts";
import { type FileEntry, isManifestRef, isShardEntry, type ManifestEntry } from "./entries.ts";
import { pendingRefs, readManifestFile } from "./manifest_reader.ts";
import { readShardManifest } from "./shards.ts";
import { writeManifest } from "./manifest_writer.ts";
import type { ExchangeOptions } from "./options.ts";

/** What {@linkcode compactManifest} did (s3exchange's `CompactReport`). */
export interface CompactReport {
  /** Entries read, references resolved (a shard counts once, expanded or not), as s3exchange counts. */
  total_entries: number;
  /** Entries dropped (none: kept for s3exchange's report shape). */
  removed_entries: number;
  /** `manifest_ref` entries resolved. */
  resolved_refs: number;
  /** Member entries written in place of shard entries (s3exchange counts members). */
  expanded_shards: number;
}

/** Options of {@linkcode compactManifest}. */
export interface CompactOptions extends ExchangeOptions {
  /** Replace each shard entry by its members' file entries. @default false */
  expandShards?: boolean | undefined;
  /** Where the destination is, when not in the source's store. @default the source's store */
  destinationStore?: ObjectStore | undefined;
}

/**
 * Writes the entries of `srcKey`, references resolved depth-first (each
 * manifest once; pending references included), as one manifest at
 * `dstKey` (overwritten). Entries are copied field for field.
 *
 * @example
 * ```ts
 * import { compactManifest } from "./compact.ts";
 * import { writeManifest } from "./manifest_writer.ts";
 * import { MemoryStore, getBytes } from "../stores/mod.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * await writeManifest(store, "m/manifest.jsonl", [{ kind: "file", key: "a" }], { mode: "append_parts" });
 * await writeManifest(store, "m/manifest.jsonl", [{ kind: "file", key: "b" }], { mode: "append_parts" });
 * const report = await compactManifest(store, "m/manifest.jsonl", "m/compact.jsonl");
 * deepEqual(report, { total_entries: 2, removed_entries: 0, resolved_refs: 2, expanded_shards: 0 });
 * equal(new TextDecoder().decode(await getBytes(store, "m/compact.jsonl")), '{"kind":"file","key":"a"}\n{"kind":"file","key":"b"}\n');
 * ```
 *
 * @param store The store holding the source.
 * @param srcKey The source manifest's key.
 * @param dstKey The destination manifest's key.
 * @param options Shard expansion, destination store, budget, retries, signal.
 * @returns The report.
 * @throws {ShardReadError} When a shard to expand cannot be read.
 */
export async function compactManifest(
  store: ObjectStore,
  srcKey: string,
  dstKey: string,
  options: CompactOptions = {},
): Promise<CompactReport> {
  const report: CompactReport = {
    total_entries: 0,
    removed_entries: 0,
    resolved_refs: 0,
    expanded_shards: 0,
  };
  const visited = new Set<string>();
  const walk = async function* (key: string, referencedBy?: string): AsyncGenerator<ManifestEntry> {
    if (visited.has(key)) return;
    visited.add(key);
    for await (const entry of readManifestFile(store, key, { ...options, referencedBy })) {
      if (isManifestRef(entry)) {
        report.resolved_refs++;
        yield* walk(entry.key, key);
      } else if (isShardEntry(entry) && options.expandShards) {
        for (const member of await readShardManifest(store, entry, options)) {
          const expanded: FileEntry = {
            ...member,
            archive_key: entry.archive_key,
            member_path: typeof member.member_path === "string" ? member.member_path : "",
          };
          report.expanded_shards++;
          yield expanded;
        }
        report.total_entries++;
      } else {
        report.total_entries++;
        yield entry;
      }
    }
  };
  const all = async function* () {
    yield* walk(srcKey);
    for (const pending of await pendingRefs(store, srcKey, options)) {
      for (const ref of pending.refs) {
        report.resolved_refs++;
        yield* walk(ref.key, pending.key);
      }
    }
  };
  await writeManifest(options.destinationStore ?? store, dstKey, all(), {
    ...options,
    mode: "overwrite",
  });
  return report;
}
