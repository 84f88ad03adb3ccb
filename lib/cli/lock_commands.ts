/**
 * The `lock` command group.
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `lock` commands. */
export const lockCommands: Command[] = [];
