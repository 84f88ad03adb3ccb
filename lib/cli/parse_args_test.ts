import { deepEqual, equal, throws } from "node:assert/strict";
import { parseArgs, UsageError } from "./parse_args.ts";

Deno.test("parseArgs() reads strings, booleans, collects, negations, aliases and --", () => {
  const spec = {
    string: ["format"],
    boolean: ["json"],
    collect: ["item-ids"],
    negatable: ["probe-metadata"],
    alias: { r: "recursive", f: "format" },
    default: { "probe-metadata": true },
  };
  const parsed = parseArgs([
    "a",
    "-f",
    "yaml",
    "--json",
    "--item-ids",
    "x",
    "--item-ids=y",
    "--",
    "--z",
  ], spec);
  deepEqual(parsed._, ["a", "--z"]);
  equal(parsed.format, "yaml");
  equal(parsed.json, true);
  deepEqual(parsed["item-ids"], ["x", "y"]);
  equal(parsed["probe-metadata"], true);
  equal(parseArgs(["--no-probe-metadata"], spec)["probe-metadata"], false);
});

Deno.test("parseArgs() rejects unknown flags, missing values and values on booleans", () => {
  throws(() => parseArgs(["--nope"], {}), UsageError);
  throws(() => parseArgs(["--format"], { string: ["format"] }), /Flag "--format" needs a value/);
  throws(() => parseArgs(["--json=maybe"], { boolean: ["json"] }), /takes no value/);
  throws(() => parseArgs(["--no-json"], { boolean: ["json"] }), /Unknown flag "--no-json"/);
});
