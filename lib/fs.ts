/**
 * Small file-system questions several rooms ask.
 *
 * @module
 */

/**
 * Whether anything (a file, a folder, a link, even a dangling one) is at
 * `path`.
 *
 * @example
 * ```ts
 * import { pathExists } from "./fs.ts";
 * import { equal } from "node:assert/strict";
 * equal(await pathExists("/"), true);
 * equal(await pathExists("/no/such/path/here"), false);
 * ```
 *
 * @param path The path.
 * @returns True when something is there.
 * @throws {Error} Any failure other than "not found" (a permission refusal, say).
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
