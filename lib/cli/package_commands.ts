/**
 * `ferry build`, `ferry inspect` and `ferry demo`: STAC packages.
 *
 * @module
 */
import { type Command, EXIT, positional, writeJsonLine, writeText } from "./command.ts";
import {
  buildPackage,
  formatPackageInfo,
  inspectPackage,
  parseInspectFormat,
  runDemo,
} from "../package/mod.ts";
import { PROBE_FLAGS, probeOptionsFromArgs } from "./lock_commands.ts";
import { parsePipelineFlags, PIPELINE_USAGE, withPipelineFlags } from "./pipeline_flags.ts";
import { OCI_USAGE, rejectOciFlags, withOciFlags } from "./oci_flags.ts";

const build: Command = {
  name: ["build"],
  summary:
    "Build a package folder from items (Arrow IPC) on stdin: items.parquet + assets.lock.parquet",
  usage:
    `OUTPUT_DIR [--asset-lock PATH] [--item-ids ID]... [--providers P]... [--includes PATH]... [--include-assets] [--[no-]probe-metadata] [--checksum none|sha256] [--keep-going] ${PIPELINE_USAGE}`,
  args: withPipelineFlags({
    ...PROBE_FLAGS,
    string: ["checksum", "asset-lock"],
    boolean: [...PROBE_FLAGS.boolean, "include-assets"],
    collect: [...PROBE_FLAGS.collect, "includes"],
  }),
  async run(args, io) {
    const outputDir = positional(args, 0, "OUTPUT_DIR");
    const report = await buildPackage(io.stdin, outputDir, {
      ...probeOptionsFromArgs(args, io),
      assetLock: typeof args["asset-lock"] === "string" ? args["asset-lock"] : undefined,
      includes: args.includes as string[],
      includeAssets: args["include-assets"] === true,
      pipeline: parsePipelineFlags(args),
    });
    await writeJsonLine(io.stdout, report);
    return EXIT.ok;
  },
};

const inspect: Command = {
  name: ["inspect"],
  summary:
    "Describe a package: files (media type, size, sha256), items, collections, assets; or a remote one (oci://) from its manifest",
  usage: `PACKAGE|oci://HOST/REPOSITORY[:TAG|@DIGEST] [--format yaml|json|markdown] ${OCI_USAGE}`,
  args: withOciFlags({ string: ["format"], default: { format: "yaml" } }),
  async run(args, io) {
    const format = parseInspectFormat(String(args.format));
    const target = positional(args, 0, "PACKAGE");
    if (target.startsWith("oci://")) {
      return (await import("./oci_commands.ts")).inspectRemote(target, format, args, io);
    }
    rejectOciFlags(args, target);
    const info = await inspectPackage(target);
    await writeText(io.stdout, formatPackageInfo(info, format));
    return EXIT.ok;
  },
};

const demo: Command = {
  name: ["demo"],
  summary: "Build a package from the shipped example, inspect it and check its lock (offline)",
  usage: "[OUTPUT_DIR]",
  args: {},
  async run(args, io) {
    const result = await runDemo({
      outputDir: args._[0],
      print: (text) => writeText(io.stdout, text),
    });
    await writeText(io.stdout, `\nPackage: ${result.package}\n`);
    return result.valid ? EXIT.ok : EXIT.failed;
  },
};

/** The package commands. */
export const packageCommands: Command[] = [build, inspect, demo];
