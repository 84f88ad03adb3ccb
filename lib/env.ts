/**
 * Environment access that respects Deno's permissions: a variable this
 * process may not read counts as unset, so a sandboxed run needs only the
 * variables it uses.
 *
 * @module
 */

/** Reads environment variables. */
export type EnvReader = (name: string) => string | undefined;

/**
 * Reads `name` from the process environment, or undefined when it is unset
 * or not readable under the granted permissions.
 *
 * @param name The variable.
 * @returns Its value.
 */
export const readEnv: EnvReader = (name) => {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    const value = Deno.env.get(name);
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
};
