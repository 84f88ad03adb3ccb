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
import { storeCommands } from "./lib/cli/store_commands.ts";
import { swiftCommands } from "./lib/cli/swift_commands.ts";
import { itemsCommands } from "./lib/cli/items_commands.ts";
import { enrichCommands } from "./lib/cli/enrich_commands.ts";
import { lockCommands } from "./lib/cli/lock_commands.ts";
import { lockTransferCommands } from "./lib/cli/lock_transfer_commands.ts";
import { packageCommands } from "./lib/cli/package_commands.ts";

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  ...storeCommands,
  ...swiftCommands,
  ...itemsCommands,
  ...enrichCommands,
  ...lockCommands,
  ...lockTransferCommands,
  ...packageCommands,
];

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
    await writeText(args.length === 0 ? io.stderr : io.stdout, helpText(COMMANDS));
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  if (args[0] === "--version") {
    await writeText(io.stdout, `ferry ${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS
    .filter((c) => c.name.every((word, i) => args[i] === word))
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (!command) {
    const group = COMMANDS.filter((c) => c.name[0] === args[0]);
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
