/**
 * `ferry push`, `ferry pull` and the `oci://` side of `ferry inspect`:
 * packages through OCI registries, compatible with stacpkg.
 *
 * @module
 */
import { type Command, EXIT, positional, writeJsonLine, writeText } from "./command.ts";
import type { CommandIO } from "./command.ts";
import type { ParsedArgs } from "./parse_args.ts";
import { OCI_USAGE, parseOciFlags, withOciFlags } from "./oci_flags.ts";
import {
  formatRemotePackageInfo,
  inspectRemotePackage,
  pullPackage,
  pushPackage,
} from "../oci/mod.ts";

const push: Command = {
  name: ["push"],
  summary: "Push a package folder to an OCI registry as stacpkg's artifact (tag latest by default)",
  usage: `PACKAGE oci://HOST[:PORT]/REPOSITORY[:TAG] [--mount-from REPOSITORY]... ${OCI_USAGE}`,
  args: withOciFlags({ collect: ["mount-from"] }),
  async run(args, io) {
    const report = await pushPackage(
      positional(args, 0, "PACKAGE"),
      positional(args, 1, "TARGET"),
      {
        ...parseOciFlags(args),
        mountFrom: args["mount-from"] as string[],
      },
    );
    await writeJsonLine(io.stdout, {
      reference: report.reference,
      digest: report.digest,
      layers: report.layers.length,
      uploaded: report.uploaded,
      mounted: report.mounted,
      present: report.present,
      uploaded_bytes: report.uploadedBytes,
    });
    return EXIT.ok;
  },
};

const pull: Command = {
  name: ["pull"],
  summary: "Pull a package from an OCI registry into a folder, every blob verified before it lands",
  usage: `oci://HOST[:PORT]/REPOSITORY[:TAG|@DIGEST] --output-dir DIR ${OCI_USAGE}`,
  args: withOciFlags({ string: ["output-dir"] }),
  async run(args, io) {
    const source = positional(args, 0, "SOURCE");
    const outputDir = args["output-dir"];
    if (typeof outputDir !== "string" || outputDir === "") {
      throw new TypeError("Missing --output-dir DIR");
    }
    const report = await pullPackage(source, outputDir, parseOciFlags(args));
    await writeJsonLine(io.stdout, {
      reference: report.reference,
      digest: report.digest,
      output_dir: report.outputDir,
      files: report.files.length,
      blob_bytes: report.blobBytes,
    });
    return EXIT.ok;
  },
};

/**
 * `ferry inspect oci://…`: the remote package's files from its manifest.
 *
 * @param target The `oci://` reference.
 * @param format `yaml`, `json` or `markdown`.
 * @param args Parsed arguments (the registry flags).
 * @param io Standard streams.
 * @returns The exit code.
 */
export async function inspectRemote(
  target: string,
  format: "yaml" | "json" | "markdown",
  args: ParsedArgs,
  io: CommandIO,
): Promise<number> {
  const info = await inspectRemotePackage(target, parseOciFlags(args));
  await writeText(io.stdout, formatRemotePackageInfo(info, format));
  return EXIT.ok;
}

/** `ferry push`. */
export const pushCommands: Command[] = [push];
/** `ferry pull`. */
export const pullCommands: Command[] = [pull];
