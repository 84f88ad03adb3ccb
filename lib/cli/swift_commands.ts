/**
 * The `swift` command group.
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `swift` commands. */
export const swiftCommands: Command[] = [];
