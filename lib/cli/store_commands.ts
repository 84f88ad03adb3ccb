/**
 * `ferry store ls|stat|cat|put|rm|cp`: the drivers from the command line.
 *
 * @module
 */
import { type Command, EXIT, positional, writeJsonLine, writeText } from "./command.ts";
import { type OpenedLocation, openLocation } from "../stores/registry.ts";
import { formatHref } from "../stores/location.ts";
import { headOrUndefined } from "../stores/ext.ts";
import { destinationOpenOptions, runTransfers } from "../pipeline/engine.ts";
import { type ByteRange, isBulkDeleter, type ListEntry, type ObjectMeta } from "../stores/store.ts";

function metaJson(meta: ObjectMeta) {
  return {
    key: meta.key,
    size: meta.size,
    etag: meta.etag ?? null,
    last_modified: meta.lastModified?.toISOString() ?? null,
    content_type: meta.contentType ?? null,
  };
}

/**
 * Parses `START-END` (inclusive, as HTTP), `START-` or `-SUFFIX`.
 *
 * @param text The range text.
 * @returns The byte range.
 */
export function parseRangeFlag(text: string): ByteRange {
  const m = /^(\d*)-(\d*)$/.exec(text);
  if (!m || (m[1] === "" && m[2] === "")) {
    throw new SyntaxError(`Invalid range "${text}": expected START-END, START- or -SUFFIX`);
  }
  if (m[1] === "") return { suffix: Number(m[2]) };
  const offset = Number(m[1]);
  if (m[2] === "") return { offset };
  const end = Number(m[2]);
  if (end < offset) throw new RangeError(`Invalid range "${text}": END is before START`);
  return { offset, length: end - offset + 1 };
}

/** The href of another key in the same store as `opened`. */
function hrefFor(opened: OpenedLocation, key: string): string {
  if (opened.location.store_type === "file") return "/" + key;
  return formatHref({ ...opened.location, key });
}

const ls: Command = {
  name: ["store", "ls"],
  summary:
    "List one object or what is under a URL: names relative to it (--json: full records with href)",
  usage: "URL [--recursive] [--json]",
  args: { boolean: ["recursive", "json"], alias: { r: "recursive" } },
  async run(args, io) {
    const opened = openLocation(positional(args, 0, "URL"));
    const { store, key } = opened;
    const single = key !== "" && !key.endsWith("/") ? await headOrUndefined(store, key) : undefined;
    const base = single
      ? key.slice(0, key.lastIndexOf("/") + 1)
      : key === "" || key.endsWith("/")
      ? key
      : key + "/";
    const print = (entry: ListEntry) => {
      const entryKey = entry.kind === "prefix" ? entry.prefix : entry.key;
      if (!args.json) return writeText(io.stdout, entryKey.slice(base.length) + "\n");
      const record = entry.kind === "prefix" ? { prefix: entry.prefix } : metaJson(entry);
      return writeJsonLine(io.stdout, { ...record, href: hrefFor(opened, entryKey) });
    };
    if (single) {
      await print({ kind: "object", ...single });
      return EXIT.ok;
    }
    for await (const entry of store.list(base, args.recursive ? {} : { delimiter: "/" })) {
      await print(entry);
    }
    return EXIT.ok;
  },
};

const stat: Command = {
  name: ["store", "stat"],
  summary: "Print an object's size, ETag, last-modified and content type as JSON",
  usage: "URL",
  args: {},
  async run(args, io) {
    const opened = openLocation(positional(args, 0, "URL"));
    const meta = await opened.store.head(opened.key);
    await writeJsonLine(io.stdout, { ...metaJson(meta), href: hrefFor(opened, meta.key) });
    return EXIT.ok;
  },
};

const cat: Command = {
  name: ["store", "cat"],
  summary: "Write an object's bytes (or a range of them) to stdout",
  usage: "URL [--range START-END]",
  args: { string: ["range"] },
  async run(args, io) {
    const { store, key } = openLocation(positional(args, 0, "URL"));
    const range = typeof args.range === "string" ? parseRangeFlag(args.range) : undefined;
    const body = await store.get(key, { range });
    await body.pipeTo(io.stdout, { preventClose: true });
    return EXIT.ok;
  },
};

const put: Command = {
  name: ["store", "put"],
  summary: "Write stdin (or FILE) to an object, streamed",
  usage: "URL [FILE] [--content-type TYPE]",
  args: { string: ["content-type"] },
  async run(args, io) {
    const { store, key } = openLocation(positional(args, 0, "URL"));
    const file = args._[1];
    let body = io.stdin;
    let size: number | undefined;
    if (file !== undefined) {
      const opened = await Deno.open(file);
      size = (await opened.stat()).size;
      body = opened.readable;
    }
    const contentType = typeof args["content-type"] === "string" ? args["content-type"] : undefined;
    const result = await store.put(key, body, { size, contentType });
    await writeJsonLine(io.stdout, { key, size: result.size, etag: result.etag ?? null });
    return EXIT.ok;
  },
};

const rm: Command = {
  name: ["store", "rm"],
  summary: "Delete an object, or every object under a prefix (optionally matching --regex)",
  usage: "URL [--prefix] [--regex RE]",
  args: { boolean: ["prefix"], string: ["regex"] },
  async run(args, io) {
    const { store, key } = openLocation(positional(args, 0, "URL"));
    if (!args.prefix) {
      if (args.regex !== undefined) throw new TypeError("Flag --regex needs --prefix");
      await store.delete(key);
      await writeJsonLine(io.stdout, { deleted: 1, errors: [] });
      return EXIT.ok;
    }
    const pattern = typeof args.regex === "string" ? new RegExp(args.regex) : undefined;
    const batch: string[] = [];
    const errors: { key: string; error: string }[] = [];
    let deleted = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const keys = batch.splice(0);
      if (isBulkDeleter(store)) {
        const failed = await store.deleteMany(keys);
        for (const f of failed) errors.push({ key: f.key, error: f.error.message });
        deleted += keys.length - failed.length;
      } else {
        for (const k of keys) {
          await store.delete(k);
          deleted++;
        }
      }
    };
    for await (const entry of store.list(key)) {
      if (entry.kind !== "object" || (pattern && !pattern.test(entry.key))) continue;
      batch.push(entry.key);
      if (batch.length >= 1000) await flush();
    }
    await flush();
    await writeJsonLine(io.stdout, { deleted, errors });
    return errors.length === 0 ? EXIT.ok : EXIT.failed;
  },
};

const cp: Command = {
  name: ["store", "cp"],
  summary:
    "Copy one object between any two stores through the transfer pipeline: streamed, checksummed, retried whole (DST ending in / keeps the name)",
  usage: "SRC DST",
  args: {},
  async run(args, io) {
    const source = openLocation(positional(args, 0, "SRC"));
    const destination = openLocation(positional(args, 1, "DST"), destinationOpenOptions({}));
    let toKey = destination.key;
    if (toKey === "" || toKey.endsWith("/")) {
      toKey += source.key.slice(source.key.lastIndexOf("/") + 1);
    }
    const task = {
      source: { store: source.store, key: source.key },
      destination: { store: destination.store, key: toKey },
      ifExists: "overwrite" as const,
    };
    for await (const result of runTransfers([task], { maxWorkers: 1 })) {
      if (result.status === "failed") throw result.error;
      await writeJsonLine(io.stdout, {
        key: toKey,
        size: result.size,
        etag: result.destination?.etag ?? null,
      });
    }
    return EXIT.ok;
  },
};

/** The `store` command group. */
export const storeCommands: Command[] = [ls, stat, cat, put, rm, cp];
