/**
 * The rooms of lib/ and who may import whom (the architecture in README.md):
 * the engine knows no lock, STAC, package, exchange, OCI or CLI; STAC is pure
 * format code; only the CLI knows the CLI; no room reaches into another
 * room's `_private` file.
 */
import { deepEqual } from "node:assert/strict";

const LIB = new URL("../lib/", import.meta.url);

/** Rooms each room must not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  stores: ["pipeline", "stac", "lock", "package", "oci", "exchange", "zarr", "cli"],
  pipeline: ["stac", "lock", "package", "oci", "exchange", "zarr", "cli"],
  stac: ["stores", "pipeline", "lock", "package", "oci", "exchange", "zarr", "cli"],
  lock: ["package", "oci", "exchange", "zarr", "cli"],
  package: ["oci", "exchange", "zarr", "cli"],
  oci: ["exchange", "zarr", "cli"],
  exchange: ["lock", "package", "oci", "zarr", "cli"],
  zarr: ["stac", "lock", "package", "oci", "exchange", "cli"],
};

async function* sourceFiles(dir: URL, room = ""): AsyncIterable<{ room: string; path: URL }> {
  for await (const entry of Deno.readDir(dir)) {
    const path = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) {
      if (entry.name !== "testdata") yield* sourceFiles(path, room || entry.name);
    } else if (entry.name.endsWith(".ts") && !/(_test|_testing)\.ts$/.test(entry.name)) {
      yield { room, path };
    }
  }
}

Deno.test("lib/ rooms import only what the architecture allows", async () => {
  const violations: string[] = [];
  for await (const { room, path } of sourceFiles(LIB)) {
    const text = await Deno.readTextFile(path);
    const name = path.pathname.slice(LIB.pathname.length);
    for (const match of text.matchAll(/^(?:import|export)[^"]*?from "(\.[^"]+)"/gm)) {
      const target = new URL(match[1]!, path).pathname;
      if (!target.startsWith(LIB.pathname)) continue;
      const targetName = target.slice(LIB.pathname.length);
      const targetRoom = targetName.includes("/") ? targetName.split("/")[0]! : "";
      if (targetRoom !== room && (FORBIDDEN[room] ?? []).includes(targetRoom)) {
        violations.push(`${name} imports ${targetName}`);
      }
      const file = targetName.split("/").at(-1)!;
      if (file.startsWith("_") && targetRoom !== room && targetRoom !== "") {
        violations.push(`${name} imports another room's private ${targetName}`);
      }
    }
  }
  deepEqual(violations, []);
});
