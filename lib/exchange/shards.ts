/**
 * Reading shards: the internal manifest (`__manifest__.jsonl`, the first
 * member), the members as streams with their entries, and one member by its
 * virtual key: by byte range where ferry recorded the member's offset in an
 * uncompressed tar (`offset_bytes`, checked against the member's header
 * block), by streaming the archive up to it otherwise. An archive is never
 * held whole.
 *
 * @module
 */
import type { ObjectStore } from "../stores/mod.ts";
import { sizeChecked } from "../pipeline/mod.ts";
import {
  type FileEntry,
  isFileEntry,
  numberField,
  parseEntries,
  type ShardEntry,
} from "./entries.ts";
import { ShardReadError } from "./errors.ts";
import { virtualKey } from "./keys.ts";
import { getVerified } from "./_io.ts";
import { type ExchangeOptions, resolveExchangeOptions } from "./options.ts";
import {
  INTERNAL_MANIFEST_PATH,
  parseHeaderBlock,
  readTarMembers,
  TAR_READER_BUFFER_BYTES,
  type TarCompression,
  type TarMember,
} from "./tar.ts";

/**
 * A shard entry for an archive known only by its key, with the format
 * inferred from the extension as s3exchange does (`.tar.gz`/`.tgz`: gzip).
 *
 * @example
 * ```ts
 * import { shardEntryForKey } from "./shards.ts";
 * import { equal } from "node:assert/strict";
 * equal(shardEntryForKey("s/shard-000001.tar.gz").compression, "gzip");
 * equal(shardEntryForKey("s/shard-000001.tar").compression, null);
 * ```
 *
 * @param archiveKey The archive's key.
 * @returns The entry.
 */
export function shardEntryForKey(archiveKey: string): ShardEntry {
  const compression = /\.(tar\.gz|tgz)$/.test(archiveKey)
    ? "gzip"
    : /\.tar\.bz2$/.test(archiveKey)
    ? "bzip2"
    : /\.tar\.xz$/.test(archiveKey)
    ? "xz"
    : null;
  return { kind: "shard", archive_key: archiveKey, format: "tar", compression };
}

function compressionOf(shard: ShardEntry): TarCompression {
  const compression = shard.compression;
  if (compression !== undefined && compression !== null && compression !== "gzip") {
    throw new ShardReadError(shard.archive_key, `unsupported compression "${compression}"`);
  }
  if (shard.format !== undefined && shard.format !== "tar") {
    throw new ShardReadError(shard.archive_key, `unsupported format "${shard.format}"`);
  }
  // The gzip magic decides: an entry's field may be missing or wrong.
  return "auto";
}

/** One member of a shard, as iteration yields it. */
export interface ShardMember {
  /** The member's entry, enriched with `archive_key`, `member_path` and the virtual `key`. */
  entry: FileEntry;
  /** Its bytes (size checked); read or cancel before asking for the next member. */
  body: ReadableStream<Uint8Array>;
  /** Its position in the archive (1-based, the internal manifest is 1). */
  index: number;
  /** The raw tar member (header: type, link target) for extraction checks. */
  member: TarMember;
}

/**
 * The member entry as s3exchange enriches it: the internal manifest's
 * fields, then `archive_key`, `member_path` and (when missing) the virtual key.
 */
function enrich(archiveKey: string, entry: FileEntry, memberPath: string): FileEntry {
  const enriched: FileEntry = {
    ...entry,
    archive_key: archiveKey,
    member_path: typeof entry.member_path === "string" ? entry.member_path : memberPath,
  };
  if (typeof entry.key !== "string") enriched.key = virtualKey(archiveKey, memberPath);
  return enriched;
}

async function readInternal(
  member: TarMember,
  shard: ShardEntry,
): Promise<Map<string, FileEntry>> {
  const archiveKey = shard.archive_key;
  const byPath = new Map<string, FileEntry>();
  const source = `${archiveKey}#${member.header.name}`;
  for await (const entry of parseEntries(member.body, { source, archiveKey })) {
    if (!isFileEntry(entry)) {
      throw new ShardReadError(
        archiveKey,
        `the internal manifest holds a "${entry.kind}" entry; only file entries belong there`,
      );
    }
    const path = typeof entry.member_path === "string" ? entry.member_path : entry.key;
    byPath.set(path, entry);
  }
  return byPath;
}

/** Options of shard reads. */
export interface ShardReadOptions extends ExchangeOptions {
  /** Stop after this many members. */
  limit?: number | undefined;
  /**
   * Called with every member before it is yielded or passed over (links,
   * folders, devices included); throw to refuse the archive.
   */
  check?: ((member: TarMember) => void) | undefined;
}

/**
 * The members of a shard as streams with their entries, in archive order,
 * reading the archive once: the internal manifest first (held while the
 * archive is read, one entry per member), then each regular file. Members
 * that are not regular files are passed over, as s3exchange does.
 *
 * @example Reading a shard written by ferry
 * ```ts
 * import { createShard } from "./shard_create.ts";
 * import { readShardMembers } from "./shards.ts";
 * import { MemoryStore, getBytes } from "../stores/mod.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * const shard = await createShard(store, "s/a.tar", [
 *   { source: new TextEncoder().encode("hello"), member_path: "x/1.txt" },
 * ]);
 * for await (const { entry, body } of readShardMembers(store, shard)) {
 *   equal(entry.key, "s/a.tar#x/1.txt");
 *   equal(await new Response(body).text(), "hello");
 * }
 * ```
 *
 * @param store The store holding the archive.
 * @param shard The shard's entry (or one from {@linkcode shardEntryForKey}).
 * @param options Limit, budget, retries, signal.
 * @returns The members.
 */
export async function* readShardMembers(
  store: ObjectStore,
  shard: ShardEntry,
  options: ShardReadOptions = {},
): AsyncGenerator<ShardMember> {
  const io = resolveExchangeOptions(options);
  const archiveKey = shard.archive_key;
  const internalPath = shard.internal_manifest_path ?? INTERNAL_MANIFEST_PATH;
  const compression = compressionOf(shard);
  await io.budget.acquire(Math.min(TAR_READER_BUFFER_BYTES, io.budget.limitBytes), {
    signal: io.signal,
  });
  try {
    const { stream } = await getVerified(store, archiveKey, {
      expectedSize: numberField(shard.size_bytes),
    }, io);
    let byPath: Map<string, FileEntry> | undefined;
    let count = 0;
    for await (const member of readTarMembers(stream, { source: archiveKey, compression })) {
      const name = member.header.name;
      options.check?.(member);
      if (byPath === undefined && name === internalPath) {
        byPath = await readInternal(member, shard);
        continue;
      }
      if ((member.header.type ?? "file") !== "file" || name === internalPath) continue;
      if (byPath === undefined) {
        throw new ShardReadError(
          archiveKey,
          `member ${member.index} "${name}" comes before the internal manifest "${internalPath}"`,
        );
      }
      if (options.limit !== undefined && count >= options.limit) break;
      const known = byPath.get(name);
      const listed = numberField(known?.size_bytes);
      if (listed !== undefined && listed !== member.header.size) {
        throw new ShardReadError(
          archiveKey,
          `member ${member.index} "${name}" has ${member.header.size} bytes, the internal manifest says ${listed}`,
        );
      }
      const entry = enrich(
        archiveKey,
        known ?? { kind: "file", member_path: name, size_bytes: member.header.size } as FileEntry,
        name,
      );
      count++;
      yield {
        entry,
        body: member.body.pipeThrough(sizeChecked(member.header.size, entry.key)),
        index: member.index,
        member,
      };
    }
    if (byPath === undefined) {
      throw new ShardReadError(archiveKey, `no internal manifest "${internalPath}"`);
    }
  } finally {
    io.budget.release(Math.min(TAR_READER_BUFFER_BYTES, io.budget.limitBytes));
  }
}

/**
 * A shard's internal manifest: its file entries, each with the virtual key
 * (synthesised from `member_path` when an older writer left it out). Only
 * the archive's first members are read.
 *
 * @param store The store holding the archive.
 * @param shard The shard's entry.
 * @param options Budget, retries, signal.
 * @returns The entries, in order.
 * @throws {ShardReadError} When the archive is unreadable or has no internal manifest.
 */
export async function readShardManifest(
  store: ObjectStore,
  shard: ShardEntry,
  options: ExchangeOptions = {},
): Promise<FileEntry[]> {
  const io = resolveExchangeOptions(options);
  const archiveKey = shard.archive_key;
  const internalPath = shard.internal_manifest_path ?? INTERNAL_MANIFEST_PATH;
  const { stream } = await getVerified(store, archiveKey, {}, io);
  for await (
    const member of readTarMembers(stream, {
      source: archiveKey,
      compression: compressionOf(shard),
    })
  ) {
    if (member.header.name !== internalPath) continue;
    return [...(await readInternal(member, shard)).values()];
  }
  throw new ShardReadError(archiveKey, `no internal manifest "${internalPath}"`);
}

/**
 * One member of a shard as a stream, with its entry. A member of an
 * uncompressed tar whose offset ferry recorded is read by byte range (its
 * header block is read too and must name it, so a moved or recompressed
 * archive is noticed); any other is found by streaming the archive.
 *
 * @param store The store holding the archive.
 * @param shard The shard's entry.
 * @param memberPath The member's path inside it.
 * @param options Budget, retries, signal.
 * @returns The entry and the bytes, or undefined when the archive has no such member.
 */
export async function openShardMember(
  store: ObjectStore,
  shard: ShardEntry,
  memberPath: string,
  options: ExchangeOptions = {},
): Promise<{ entry: FileEntry; body: ReadableStream<Uint8Array> } | undefined> {
  const io = resolveExchangeOptions(options);
  const archiveKey = shard.archive_key;
  const members = readShardMembers(store, shard, io.pipeline);
  let internal: FileEntry[] | undefined;
  if (shard.compression === null) {
    internal = await readShardManifest(store, shard, io.pipeline);
    const listed = internal.find((e) => (e.member_path ?? e.key) === memberPath);
    const offset = numberField(listed?.offset_bytes);
    const size = numberField(listed?.size_bytes);
    if (listed && offset !== undefined && size !== undefined && offset >= 512) {
      await members.return(undefined);
      const { stream } = await getVerified(store, archiveKey, {
        range: { offset: offset - 512, length: 512 + size },
        expectedSize: 512 + size,
      }, io);
      const entry = enrich(archiveKey, listed, memberPath);
      return { entry, body: stream.pipeThrough(headerChecked(archiveKey, memberPath, size)) };
    }
  }
  for await (const member of members) {
    if (member.member.header.name !== memberPath) continue;
    const reader = member.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await reader.read();
        if (!next.done) return controller.enqueue(next.value);
        controller.close();
        await members.return(undefined);
      },
      async cancel(reason) {
        await reader.cancel(reason);
        await members.return(undefined);
      },
    }, { highWaterMark: 0 });
    return { entry: member.entry, body };
  }
  return undefined;
}

/** Drops the member's header block after checking it names the member with its size. */
function headerChecked(
  archiveKey: string,
  memberPath: string,
  size: number,
): TransformStream<Uint8Array, Uint8Array> {
  const head = new Uint8Array(512);
  let have = 0;
  return new TransformStream({
    transform(chunk, controller) {
      if (have < 512) {
        const take = Math.min(512 - have, chunk.length);
        head.set(chunk.subarray(0, take), have);
        have += take;
        if (have === 512) {
          const block = parseHeaderBlock(head);
          const nameMatches = block !== undefined &&
            (block.name === memberPath ||
              (new TextEncoder().encode(memberPath).length > 100 && block.size === size));
          if (!block || block.size !== size || !nameMatches) {
            throw new ShardReadError(
              archiveKey,
              `the recorded offset of member "${memberPath}" does not point at its header (was the archive rewritten?)`,
            );
          }
        }
        chunk = chunk.subarray(take);
      }
      if (chunk.length > 0) controller.enqueue(chunk);
    },
  });
}
