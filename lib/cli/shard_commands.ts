/**
 * `ferry shard create|ls`: tar shards from the command line.
 *
 * @module
 */
import { type Command, EXIT, positional, writeJsonLine } from "./command.ts";
import { parsePipelineFlags, PIPELINE_USAGE, withPipelineFlags } from "./pipeline_flags.ts";
import { modeFlag, openForExchange, writeEntries } from "./manifest_commands.ts";
import { openLocation } from "../stores/mod.ts";
import { parseSize } from "../units.ts";
import {
  createShards,
  parseShardSources,
  readShardManifest,
  shardEntryForKey,
  writeManifest,
} from "../exchange/mod.ts";

function sameContainer(
  a: ReturnType<typeof openLocation>,
  b: ReturnType<typeof openLocation>,
): boolean {
  return a.location.store_type === b.location.store_type &&
    a.location.store_container === b.location.store_container &&
    a.location.store_endpoint_url === b.location.store_endpoint_url;
}

const create: Command = {
  name: ["shard", "create"],
  summary:
    "Stream the sources on stdin (JSON lines) into tar (--gzip: tar.gz) shards under --prefix and add their entries to --manifest",
  usage:
    `--manifest URL --prefix URL [--max-entries N] [--max-bytes SIZE] [--gzip] [--mode overwrite|append_parts] ${PIPELINE_USAGE} < sources.ndjson`,
  args: withPipelineFlags({
    string: ["manifest", "prefix", "max-entries", "max-bytes", "mode"],
    boolean: ["gzip"],
  }),
  async run(args, io) {
    const pipeline = parsePipelineFlags(args);
    const mode = modeFlag(args, "append_parts");
    if (typeof args.manifest !== "string") throw new TypeError("Missing flag --manifest URL");
    if (typeof args.prefix !== "string") throw new TypeError("Missing flag --prefix URL");
    const manifest = openForExchange(args.manifest, pipeline);
    const prefix = openForExchange(args.prefix, pipeline);
    if (!sameContainer(manifest, prefix)) {
      throw new TypeError(
        `Invalid --prefix "${args.prefix}": shards must be in the manifest's bucket or container (keys are relative to it)`,
      );
    }
    let maxEntries: number | undefined;
    if (args["max-entries"] !== undefined) {
      const text = String(args["max-entries"]);
      if (!/^\d+$/.test(text) || Number(text) < 1) {
        throw new SyntaxError(`Invalid --max-entries "${text}": expected a positive integer`);
      }
      maxEntries = Number(text);
    }
    const maxBytes = args["max-bytes"] === undefined
      ? undefined
      : parseSize(String(args["max-bytes"]), "--max-bytes");
    const shards = await createShards(
      prefix.store,
      prefix.key,
      parseShardSources(io.stdin, "stdin"),
      {
        ...pipeline,
        maxEntries,
        maxBytes,
        compression: args.gzip === true ? "gzip" : null,
      },
    );
    let report;
    try {
      report = await writeManifest(manifest.store, manifest.key, shards, { ...pipeline, mode });
    } catch (error) {
      for (const shard of shards) await prefix.store.delete(shard.archive_key).catch(() => {});
      throw error;
    }
    await writeJsonLine(io.stdout, {
      ...report,
      shards: shards.length,
      members: shards.reduce((n, s) => n + (s.count ?? 0), 0),
      bytes: shards.reduce((n, s) => n + (s.size_bytes ?? 0), 0),
      archives: shards.map((s) => s.archive_key),
    });
    return EXIT.ok;
  },
};

const ls: Command = {
  name: ["shard", "ls"],
  summary: "Print the internal manifest of one shard archive (JSON lines)",
  usage: "URL",
  args: {},
  async run(args, io) {
    const { store, key } = openLocation(positional(args, 0, "URL"));
    const entries = await readShardManifest(store, shardEntryForKey(key));
    await writeEntries(
      io.stdout,
      (async function* () {
        yield* entries;
      })(),
    );
    return EXIT.ok;
  },
};

/** The `shard` command group. */
export const shardCommands: Command[] = [create, ls];
