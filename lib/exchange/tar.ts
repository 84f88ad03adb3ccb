/**
 * Streaming tar and tar.gz over the `modern-tar` library, with gzip from the
 * pipeline's `GzipStream` (on a worker) and `DecompressionStream`: archives are written
 * and read one member at a time, never held whole.
 *
 * Members are written as s3exchange writes them: ustar headers (PAX records
 * only for names longer than ustar holds), mtime 0, uid/gid 0, mode 0644,
 * no user or group names. Reading is strict (header checksums, truncation);
 * {@linkcode checkExtractable} refuses members that would escape an output
 * folder or are not regular files.
 *
 * @module
 */
import { createTarDecoder, createTarPacker, packTar, type TarHeader } from "modern-tar";
import { ShardReadError } from "./errors.ts";
import { noteReleasedBytes } from "../reclaim.ts";
import { GzipStream } from "../pipeline/gzip_stream.ts";

/** The header facts of a member that ferry reads and checks. */
export interface TarMemberHeader {
  /** Path inside the archive. */
  name: string;
  /** Size in bytes (0 for folders and links). */
  size: number;
  /** `file`, `directory`, `symlink`, `link`, `character-device`, `block-device`, `fifo`. */
  type?: string | undefined;
  /** A link's target. */
  linkname?: string | undefined;
  /** Permission bits. */
  mode?: number | undefined;
}

/** The internal manifest's member path, first in every shard. */
export const INTERNAL_MANIFEST_PATH = "__manifest__.jsonl";

/** Bytes of the end-of-archive marker (two zero blocks). */
export const TAR_END_BYTES = 1024;

/**
 * Bytes the tar packer queues on its own before it makes its producer wait
 * (`modern-tar`'s readable high-water mark); charged to the memory budget
 * for each archive being written.
 */
export const TAR_PACKER_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * Bytes the tar decoder (and gunzip) hold on their own while an archive is
 * read; charged to the memory budget for each archive being read.
 */
export const TAR_READER_BUFFER_BYTES = 2 * 1024 * 1024;

/** One member to write: its path, exact size, and how to open its bytes (called in order). */
export interface TarMemberSource {
  /** Path inside the archive. */
  path: string;
  /** Exact size in bytes; a body of another length fails the archive. */
  size: number;
  /** Opens the member's bytes when it is its turn. */
  open(): Promise<ReadableStream<Uint8Array>>;
}

/**
 * The header fields of every member ferry writes: a regular file, mode 0644,
 * owned by uid/gid 0 without names, modified at the epoch.
 *
 * @param path The member's path.
 * @param size Its size.
 * @returns The header.
 */
function memberHeader(path: string, size: number): TarHeader {
  return { name: path, size, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) };
}

const utf8 = new TextEncoder();
const USTAR_SIZE_LIMIT = 8589934591;

/**
 * The bytes a member's header takes in the archive (512, or more when the
 * name needs PAX records), measured with the packer itself.
 *
 * @example
 * ```ts
 * import { tarHeaderBytes } from "./tar.ts";
 * import { equal } from "node:assert/strict";
 * equal(await tarHeaderBytes("a/b.wav"), 512);
 * equal(await tarHeaderBytes("x".repeat(300)), 1536);
 * ```
 *
 * @param path The member's path.
 * @param size Its size (above 8 GiB a PAX size record is added).
 * @returns The header bytes.
 */
export async function tarHeaderBytes(path: string, size = 0): Promise<number> {
  if (size <= USTAR_SIZE_LIMIT && utf8.encode(path).length <= 100) return 512;
  if (size > USTAR_SIZE_LIMIT) {
    throw new RangeError(`Member "${path}" is larger than ${USTAR_SIZE_LIMIT} bytes`);
  }
  const archive = await packTar([{ header: memberHeader(path, 0) }]);
  return archive.length - TAR_END_BYTES;
}

/**
 * A member's size rounded up to whole 512-byte blocks.
 *
 * @param size The size.
 * @returns The bytes it takes in the archive.
 */
export function paddedSize(size: number): number {
  return size + ((512 - (size % 512)) % 512);
}

/**
 * A tar (or tar.gz) stream of `members`, written in order: each member's
 * bytes are opened when its turn comes and streamed through; the packer's
 * own queue is bounded ({@linkcode TAR_PACKER_BUFFER_BYTES}). A member whose
 * bytes fail, or whose length differs from its size, errors the stream;
 * cancelling the stream cancels the member being read.
 *
 * @example Two members, read back
 * ```ts
 * import { packTarStream, readTarMembers } from "./tar.ts";
 * import { streamOf } from "../stores/ext.ts";
 * import { deepEqual } from "node:assert/strict";
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * const members = ["a.txt", "b/c.txt"].map((path) => ({
 *   path, size: path.length, open: () => Promise.resolve(streamOf(bytes(path))),
 * }));
 * const names: string[] = [];
 * for await (const m of readTarMembers(packTarStream(members, { gzip: true }), { source: "t" })) {
 *   names.push(m.header.name);
 *   await m.body.cancel();
 * }
 * deepEqual(names, ["a.txt", "b/c.txt"]);
 * ```
 *
 * @param members The members, in archive order.
 * @param options `gzip`: compress the stream.
 * @returns The archive's bytes.
 */
export function packTarStream(
  members: Iterable<TarMemberSource> | AsyncIterable<TarMemberSource>,
  options: { gzip?: boolean | undefined } = {},
): ReadableStream<Uint8Array> {
  const { readable, controller } = createTarPacker();
  (async () => {
    for await (const member of members) {
      const entry = controller.add(memberHeader(member.path, member.size));
      const body = await member.open();
      await body.pipeTo(entry);
      // The member's buffers are garbage now: let V8 collect them at the pace bytes stream.
      noteReleasedBytes(member.size);
    }
    controller.finalize();
  })().catch((error) => {
    try {
      controller.error(error);
    } catch {
      // already failed
    }
  });
  const tar = readable as ReadableStream<Uint8Array>;
  // gzip on another core: this thread packs, hashes and uploads.
  return options.gzip ? tar.pipeThrough(new GzipStream()) : tar;
}

/** One member as read from an archive. */
export interface TarMember {
  /** 1-based position in the archive. */
  index: number;
  /** The header (name, size, type, link target). */
  header: TarMemberHeader;
  /** The bytes; read or cancel it before asking for the next member. */
  body: ReadableStream<Uint8Array>;
}

/** How an archive's bytes are compressed: `gzip`, none, or `auto` (sniffed). */
export type TarCompression = "gzip" | null | "auto";

/**
 * Whether an archive is gzipped, and the stream with the sniffed bytes put back.
 *
 * @param stream The archive's bytes.
 * @returns Whether it starts with the gzip magic, and the whole stream.
 */
async function sniffGzip(
  stream: ReadableStream<Uint8Array>,
): Promise<{ gzip: boolean; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader();
  const head: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < 2) {
    const next = await reader.read();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    have += next.value.length;
  }
  const first = head[0];
  const second = first && first.length > 1 ? first[1] : head[1]?.[0];
  const gzip = first !== undefined && first[0] === 0x1f && second === 0x8b;
  const replay = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffered = head.shift();
      if (buffered) return controller.enqueue(buffered);
      if (done) return controller.close();
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { gzip, stream: replay };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase());
}

/**
 * The members of a tar or tar.gz stream, one at a time (strict: a bad
 * header checksum, a truncated archive, a corrupt gzip stream is a
 * {@linkcode ShardReadError} naming the archive and the member's position).
 * A member's body left unread is skipped when the next one is asked for.
 *
 * @param stream The archive's bytes.
 * @param options `source` names the archive in errors; `compression` (`auto` sniffs the gzip magic).
 * @returns The members in archive order.
 */
export async function* readTarMembers(
  stream: ReadableStream<Uint8Array>,
  options: { source: string; compression?: TarCompression | undefined },
): AsyncGenerator<TarMember> {
  const source = options.source;
  let input = stream;
  let gzip = options.compression === "gzip";
  if (options.compression === undefined || options.compression === "auto") {
    const sniffed = await sniffGzip(stream);
    gzip = sniffed.gzip;
    input = sniffed.stream;
  }
  if (gzip) {
    input = input.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  let fed = 0;
  const counted = input.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        fed += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  );
  const reader = counted.pipeThrough(createTarDecoder({ strict: true })).getReader();
  let index = 0;
  let previous: ReadableStream<Uint8Array> | undefined;
  const fail = (error: unknown) => {
    if (error instanceof ShardReadError) return error;
    const reason = describe(error);
    const where = index === 0 ? "member 1" : `after member ${index}`;
    const gzipFailure = gzip && !/tar/i.test(reason) &&
      /gzip|deflate|corrupt|invalid/i.test(reason);
    return new ShardReadError(
      source,
      `${where}: ${gzipFailure ? `corrupt gzip stream (${reason})` : reason}`,
      { cause: error, offset: fed },
    );
  };
  let finished = false;
  try {
    while (true) {
      if (previous) await previous.cancel().catch(() => {});
      let next;
      try {
        next = await reader.read();
      } catch (error) {
        throw fail(error);
      }
      if (next.done) break;
      index++;
      const member = index;
      const name = next.value.header.name;
      const inner = next.value.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const chunk = await inner.read();
            if (chunk.done) controller.close();
            else controller.enqueue(chunk.value);
          } catch (error) {
            controller.error(
              new ShardReadError(source, `member ${member} "${name}": ${describe(error)}`, {
                cause: error,
              }),
            );
          }
        },
        cancel(reason) {
          return inner.cancel(reason);
        },
      }, { highWaterMark: 0 });
      previous = body;
      yield { index: member, header: next.value.header, body };
    }
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** What extraction does with a member: write it, or pass over it (folders, links inside). */
export type ExtractAction = "file" | "skip";

function escapes(segments: string[]): boolean {
  const out: string[] = [];
  for (const segment of segments) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0) return true;
      out.pop();
    } else out.push(segment);
  }
  return false;
}

/**
 * Why a relative path may not be written under an output folder (absolute,
 * `..`, empty), or undefined when it may.
 *
 * @example
 * ```ts
 * import { unsafePathReason } from "./tar.ts";
 * import { equal } from "node:assert/strict";
 * equal(unsafePathReason("a/b.txt"), undefined);
 * equal(unsafePathReason("a/../../b"), "the path leaves the output folder");
 * ```
 *
 * @param path The path.
 * @returns The reason, or undefined.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path === "" || path.includes("\0") || path.split("/").every((s) => s === "" || s === ".")) {
    return "the path is empty or invalid";
  }
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) return "the path is absolute";
  if (path.split("/").includes("..")) return "the path leaves the output folder";
  return undefined;
}

/**
 * Decides whether a member may be extracted into a folder: regular files
 * are written, folders and links that stay inside are passed over; a path
 * with `..`, an absolute path, a link pointing outside, a device file or a
 * FIFO is refused.
 *
 * @example
 * ```ts
 * import { checkExtractable } from "./tar.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(checkExtractable({ name: "a/b.wav", size: 1, type: "file" }, 2, "s.tar"), "file");
 * equal(checkExtractable({ name: "a/l", size: 0, type: "symlink", linkname: "../a/b.wav" }, 3, "s.tar"), "skip");
 * throws(() => checkExtractable({ name: "../x", size: 1 }, 2, "s.tar"), /member 2 "\.\.\/x": the path leaves the output folder/);
 * ```
 *
 * @param header The member's header.
 * @param index Its 1-based position (for the error).
 * @param source The archive (for the error).
 * @returns `file` or `skip`.
 * @throws {ShardReadError} For a member that must not be extracted.
 */
export function checkExtractable(
  header: TarMemberHeader,
  index: number,
  source: string,
): ExtractAction {
  const name = header.name;
  const refuse = (why: string): never => {
    throw new ShardReadError(source, `member ${index} "${name}": ${why}`);
  };
  const type = header.type ?? "file";
  if (type === "character-device" || type === "block-device") {
    refuse("device files are not extracted");
  }
  if (type === "fifo") refuse("FIFOs are not extracted");
  if (type === "directory" && !name.startsWith("/") && !name.split("/").includes("..")) {
    return "skip";
  }
  const unsafe = unsafePathReason(name);
  if (unsafe) refuse(unsafe);
  const segments = name.split("/");
  if (type === "symlink" || type === "link") {
    const target = header.linkname ?? "";
    if (target.startsWith("/") || /^[A-Za-z]:[\\/]/.test(target)) {
      refuse(`the link points outside the output folder ("${target}")`);
    }
    const base = type === "symlink" ? segments.slice(0, -1) : [];
    if (escapes([...base, ...target.split("/")])) {
      refuse(`the link points outside the output folder ("${target}")`);
    }
    return "skip";
  }
  if (type !== "file") return "skip";
  return "file";
}

/** The facts of a ustar header block that a ranged read checks. */
export interface HeaderBlock {
  /** The name (prefix joined), as the block holds it (a PAX name is cut). */
  name: string;
  /** The member's size. */
  size: number;
}

/**
 * Reads one 512-byte ustar header block, checking its checksum.
 *
 * @param block 512 bytes.
 * @returns Name and size, or undefined when the block is not a valid header.
 */
export function parseHeaderBlock(block: Uint8Array): HeaderBlock | undefined {
  if (block.length !== 512) return undefined;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  const field = (from: number, length: number): string => {
    const bytes = block.subarray(from, from + length);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
  };
  const octal = (from: number, length: number): number => {
    const text = field(from, length).trim();
    return /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
  };
  if (octal(148, 8) !== sum) return undefined;
  const size = octal(124, 12);
  if (!Number.isSafeInteger(size)) return undefined;
  const prefix = field(257, 6) === "ustar" ? field(345, 155) : "";
  const name = field(0, 100);
  return { name: prefix ? `${prefix}/${name}` : name, size };
}
