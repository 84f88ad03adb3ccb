/**
 * Output that stacpkg users compare byte for byte is what Python itself
 * prints: `inspect --format json` is `json.dumps(data, indent=2,
 * sort_keys=True)` with the files in `sorted(Path)` order, and each
 * `asset-lock validate` line is `json.dumps(result, sort_keys=True)`.
 * Python (`python3`) is the reference here; without it the test is skipped.
 */
// deno-lint-ignore-file no-console
import { equal } from "node:assert/strict";
import { runCli, withTempDir } from "./_cli.ts";

async function python(script: string, stdin: string): Promise<string | undefined> {
  try {
    const child = new Deno.Command("python3", {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
    const out = await child.output();
    if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

const hasPython = (await python("print(1)", "")) !== undefined;
if (!hasPython) console.warn("skipping Python output tests: no python3 on PATH");

Deno.test({
  name:
    "inspect --format json and validate lines are byte for byte what Python's json.dumps prints",
  ignore: !hasPython,
  async fn() {
    await withTempDir(async (dir) => {
      const demo = await runCli(["demo", `${dir}/pkg`]);
      equal(demo.code, 0, demo.stderr);
      await Deno.writeTextFile(`${dir}/pkg/Ünïcode notes.txt`, "é");
      const inspected = await runCli(["inspect", `${dir}/pkg`, "--format", "json"]);
      equal(inspected.code, 0, inspected.stderr);
      const reference = await python(
        `import json, sys
from pathlib import Path
data = json.load(sys.stdin)
paths = [f["path"] for f in data["files"]]
assert paths == [p.as_posix() for p in sorted(Path(p) for p in paths)], paths
print(json.dumps(data, indent=2, sort_keys=True))`,
        inspected.stdout,
      );
      equal(inspected.stdout, reference);

      const validated = await runCli([
        "asset-lock",
        "validate",
        `${dir}/pkg/assets.lock.parquet`,
      ]);
      equal(validated.code, 0, validated.stderr);
      const lines = await python(
        `import json, sys
for line in sys.stdin:
    print(json.dumps(json.loads(line), sort_keys=True))`,
        validated.stdout,
      );
      equal(validated.stdout, lines);
    });
  },
});
