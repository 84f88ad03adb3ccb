/**
 * The `ferry` command line: a table of commands, each a thin call into `lib/`.
 *
 * @module
 */
import {
  type Command,
  type CommandIO,
  errorLine,
  EXIT,
  exitCodeFor,
  writeText,
} from "./lib/cli/command.ts";
import { parseArgs } from "./lib/cli/parse_args.ts";

type CommandLoader = () => Promise<readonly Command[]>;

/**
 * The modules behind each first word, loaded only when a command of theirs
 * runs: `ferry asset-lock relocate` does not load Arrow or parquet-wasm, so it
 * starts faster and with less memory. Literal specifiers keep them in
 * `deno compile`'s graph.
 */
const COMMAND_MODULES: Readonly<Record<string, readonly CommandLoader[]>> = {
  store: [() => import("./lib/cli/store_commands.ts").then((m) => m.storeCommands)],
  swift: [() => import("./lib/cli/swift_commands.ts").then((m) => m.swiftCommands)],
  items: [
    () => import("./lib/cli/items_commands.ts").then((m) => m.itemsCommands),
    () => import("./lib/cli/enrich_commands.ts").then((m) => m.enrichCommands),
  ],
  "asset-lock": [
    () => import("./lib/cli/lock_commands.ts").then((m) => m.lockCommands),
    () => import("./lib/cli/lock_transfer_commands.ts").then((m) => m.lockTransferCommands),
  ],
  build: [() => import("./lib/cli/package_commands.ts").then((m) => m.packageCommands)],
  push: [() => import("./lib/cli/oci_commands.ts").then((m) => m.pushCommands)],
  pull: [() => import("./lib/cli/oci_commands.ts").then((m) => m.pullCommands)],
  manifest: [() => import("./lib/cli/manifest_commands.ts").then((m) => m.manifestCommands)],
  shard: [() => import("./lib/cli/shard_commands.ts").then((m) => m.shardCommands)],
};
const ALIASES: Readonly<Record<string, string>> = { inspect: "build", demo: "build" };

/**
 * The commands, in help order: all of them, or those whose first word is
 * `firstWord` (none when it names no command).
 *
 * @param firstWord The first word of a command line.
 * @returns The command rows.
 */
export async function loadCommands(firstWord?: string): Promise<readonly Command[]> {
  const groups = firstWord === undefined
    ? Object.values(COMMAND_MODULES)
    : [COMMAND_MODULES[ALIASES[firstWord] ?? firstWord] ?? []];
  const loaded = await Promise.all(groups.flat().map((load) => load()));
  const commands = loaded.flat();
  return firstWord === undefined ? commands : commands.filter((c) => c.name[0] === firstWord);
}

const VERSION = "0.1.0";

function helpText(commands: readonly Command[]): string {
  const rows = commands.map((c) => `  ferry ${c.name.join(" ")} ${c.usage}\n      ${c.summary}`);
  return `ferry ${VERSION}: package, verify and move data between object stores\n\nUsage:\n${
    rows.join("\n")
  }\n`;
}

/** The process's own standard streams. */
export function processIO(): CommandIO {
  return {
    stdin: Deno.stdin.readable,
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr.writable,
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
  };
}

/**
 * Runs the command line `args`.
 *
 * @param args The arguments after `ferry`.
 * @param io Standard streams. @default the process's
 * @returns The exit code.
 */
export async function main(args: readonly string[], io: CommandIO = processIO()): Promise<number> {
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    await writeText(args.length === 0 ? io.stderr : io.stdout, helpText(await loadCommands()));
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  if (args[0] === "--version") {
    await writeText(io.stdout, `ferry ${VERSION}\n`);
    return EXIT.ok;
  }
  const group = await loadCommands(args[0]);
  const command = group
    .filter((c) => c.name.every((word, i) => args[i] === word))
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (!command && group.length > 0 && (args[1] === "--help" || args[1] === "-h")) {
    await writeText(io.stdout, helpText(group));
    return EXIT.ok;
  }
  if (!command) {
    await writeText(
      io.stderr,
      group.length > 0
        ? `ferry: unknown command "${args.slice(0, 2).join(" ")}"\n${helpText(group)}`
        : `ferry: unknown command "${args[0]}" (see ferry --help)\n`,
    );
    return EXIT.usage;
  }
  const rest = args.slice(command.name.length);
  if (rest.includes("--help") || rest.includes("-h")) {
    await writeText(io.stdout, helpText([command]));
    return EXIT.ok;
  }
  try {
    return await command.run(parseArgs(rest, command.args), io);
  } catch (error) {
    await writeText(io.stderr, `ferry ${command.name.join(" ")}: ${errorLine(error)}\n`);
    return exitCodeFor(error);
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
