/**
 * The `package` command group.
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `package` commands. */
export const packageCommands: Command[] = [];
