/**
 * The `items` command group.
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `items` commands. */
export const itemsCommands: Command[] = [];
