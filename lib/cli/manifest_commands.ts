/**
 * `ferry manifest write|cat|ls|get|compact|rm`: manifest exchange from the
 * command line. Entries are JSON lines on stdin and stdout (as s3exchange
 * writes them); reports are one JSON object.
 *
 * @module
 */
import { type Command, EXIT, positional, writeJsonLine, writeText } from "./command.ts";
import { parsePipelineFlags, PIPELINE_USAGE, withPipelineFlags } from "./pipeline_flags.ts";
import type { ParsedArgs } from "./parse_args.ts";
import { openLocation } from "../stores/mod.ts";
import { destinationOpenOptions, type PipelineOptions } from "../pipeline/mod.ts";
import {
  compactManifest,
  deleteByManifest,
  downloadManifest,
  listManifestFiles,
  type ManifestEntry,
  parseEntries,
  readManifest,
  serializeEntry,
  writeManifest,
  type WriteMode,
} from "../exchange/mod.ts";

/** Opens a manifest's URL with the store settings that keep puts within the pipeline's budget. */
export function openForExchange(url: string, pipeline: PipelineOptions = {}) {
  return openLocation(url, destinationOpenOptions(pipeline));
}

/** The `--mode` flag's value. */
export function modeFlag(args: ParsedArgs, fallback: WriteMode): WriteMode {
  const mode = args.mode ?? fallback;
  if (mode !== "overwrite" && mode !== "append_parts") {
    throw new TypeError(`Invalid --mode "${String(mode)}": expected overwrite or append_parts`);
  }
  return mode;
}

function limitFlag(args: ParsedArgs): number | undefined {
  if (args.limit === undefined) return undefined;
  const text = String(args.limit);
  if (!/^\d+$/.test(text)) {
    throw new SyntaxError(`Invalid --limit "${text}": expected an integer >= 0`);
  }
  return Number(text);
}

/** Writes entries as JSON lines, in blocks rather than one write per line. */
export async function writeEntries(
  stdout: WritableStream<Uint8Array>,
  entries: AsyncIterable<ManifestEntry>,
): Promise<number> {
  let block = "";
  let count = 0;
  for await (const entry of entries) {
    block += serializeEntry(entry) + "\n";
    count++;
    if (block.length >= 64 * 1024) {
      await writeText(stdout, block);
      block = "";
    }
  }
  if (block) await writeText(stdout, block);
  return count;
}

const write: Command = {
  name: ["manifest", "write"],
  summary:
    "Write the entries on stdin (JSON lines) as a manifest: overwrite the root, or append them as a part and add its reference",
  usage: `URL [--mode overwrite|append_parts] ${PIPELINE_USAGE} < entries.ndjson`,
  args: withPipelineFlags({ string: ["mode"] }),
  async run(args, io) {
    const pipeline = parsePipelineFlags(args);
    const mode = modeFlag(args, "overwrite");
    const { store, key } = openForExchange(positional(args, 0, "URL"), pipeline);
    const report = await writeManifest(store, key, parseEntries(io.stdin, { source: "stdin" }), {
      ...pipeline,
      mode,
    });
    await writeJsonLine(io.stdout, report);
    return EXIT.ok;
  },
};

const cat: Command = {
  name: ["manifest", "cat"],
  summary: "Print a manifest's entries as JSON lines, references resolved (depth-first)",
  usage: "URL [--no-resolve-refs] [--limit N]",
  args: { negatable: ["resolve-refs"], string: ["limit"], default: { "resolve-refs": true } },
  async run(args, io) {
    const { store, key } = openLocation(positional(args, 0, "URL"));
    await writeEntries(
      io.stdout,
      readManifest(store, key, {
        resolveRefs: args["resolve-refs"] !== false,
        limit: limitFlag(args),
      }),
    );
    return EXIT.ok;
  },
};

const ls: Command = {
  name: ["manifest", "ls"],
  summary:
    "Print a manifest's file entries (with --expand-shards: shard members instead of shard entries), optionally only keys under --prefix",
  usage: "URL [--expand-shards] [--prefix KEY_PREFIX] [--limit N]",
  args: { boolean: ["expand-shards"], string: ["prefix", "limit"] },
  async run(args, io) {
    const { store, key } = openLocation(positional(args, 0, "URL"));
    await writeEntries(
      io.stdout,
      listManifestFiles(store, key, {
        expandShards: args["expand-shards"] === true,
        prefix: typeof args.prefix === "string" ? args.prefix : undefined,
        limit: limitFlag(args),
      }),
    );
    return EXIT.ok;
  },
};

const get: Command = {
  name: ["manifest", "get"],
  summary:
    "Download every object of a manifest into a folder (objects at their keys, shard members at their paths); all or nothing",
  usage: `URL --output-dir DIR ${PIPELINE_USAGE}`,
  args: withPipelineFlags({ string: ["output-dir"] }),
  async run(args, io) {
    const pipeline = parsePipelineFlags(args);
    const output = args["output-dir"];
    if (typeof output !== "string" || output === "") {
      throw new TypeError("Missing flag --output-dir DIR");
    }
    const { store, key } = openLocation(positional(args, 0, "URL"));
    const report = await downloadManifest(store, key, output, pipeline);
    await writeJsonLine(io.stdout, report);
    return EXIT.ok;
  },
};

const compact: Command = {
  name: ["manifest", "compact"],
  summary:
    "Write a manifest's entries, references resolved, as one manifest (shards kept, or expanded)",
  usage: "SRC DST [--expand-shards]",
  args: { boolean: ["expand-shards"] },
  async run(args, io) {
    const source = openLocation(positional(args, 0, "SRC"));
    const destination = openForExchange(positional(args, 1, "DST"));
    const report = await compactManifest(source.store, source.key, destination.key, {
      expandShards: args["expand-shards"] === true,
      destinationStore: destination.store,
    });
    await writeJsonLine(io.stdout, report);
    return EXIT.ok;
  },
};

const rm: Command = {
  name: ["manifest", "rm"],
  summary:
    "Delete everything a manifest names: objects, shard archives and (unless --keep-manifests) the manifests; prints the report",
  usage: "URL [--keep-manifests]",
  args: { boolean: ["keep-manifests"] },
  async run(args, io) {
    const { store, key } = openLocation(positional(args, 0, "URL"));
    const report = await deleteByManifest(store, key, {
      keepManifests: args["keep-manifests"] === true,
    });
    await writeJsonLine(io.stdout, report);
    return Object.keys(report.errors).length === 0 ? EXIT.ok : EXIT.failed;
  },
};

/** The `manifest` command group. */
export const manifestCommands: Command[] = [write, cat, ls, get, compact, rm];
