import { equal, match } from "node:assert/strict";
import { liveEnv, uniqueName } from "./_live.ts";
import { runCli } from "./_cli.ts";

const cli = new URL("../cli.ts", import.meta.url).pathname;
const nodeModules = new URL("../node_modules", import.meta.url).pathname;

async function sandboxed(permissions: string[], args: string[], env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, cli, ...args],
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("a scheduled validation runs with only the permissions it names (README's flags)", async () => {
  const swift = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"] as const, "Swift");
  if (!swift) return;
  const dir = await Deno.makeTempDir({ prefix: "ferry-sandbox-" });
  try {
    await Deno.writeFile(`${dir}/a.bin`, new Uint8Array(4096).fill(3));
    const item = {
      type: "Feature",
      stac_version: "1.0.0",
      id: "job-item",
      geometry: null,
      properties: { datetime: "2024-01-01T00:00:00Z" },
      links: [],
      assets: { data: { href: `${dir}/a.bin` } },
    };
    await Deno.writeTextFile(`${dir}/items.ndjson`, JSON.stringify(item) + "\n");
    const items = await runCli(["items", "from-ndjson", `${dir}/items.ndjson`]);
    const lock = await runCli(["asset-lock", "derive", "--checksum", "sha256"], items.stdoutBytes);
    const container = uniqueName("ferry-sandbox");
    const moved = await runCli([
      "asset-lock",
      "relocate",
      "--store-type",
      "swift",
      "--store-container",
      container,
    ], lock.stdoutBytes);
    equal(moved.code, 0, moved.stderr);
    const saved = await runCli(
      ["asset-lock", "to-parquet", `${dir}/swift.lock.parquet`],
      moved.stdoutBytes,
    );
    equal(saved.code, 0, saved.stderr);

    const host = new URL(swift.ST_AUTH).host;
    const flags = [
      `--allow-read=${dir}/swift.lock.parquet,${nodeModules}`,
      `--allow-net=${host}`,
      "--allow-env=ST_AUTH,ST_USER,ST_KEY",
    ];
    const ok = await sandboxed(flags, [
      "asset-lock",
      "validate",
      `${dir}/swift.lock.parquet`,
      "--deep",
    ], swift);
    equal(ok.code, 0, ok.stderr);
    equal(JSON.parse(ok.stdout).valid, true);

    const noNet = await sandboxed(
      flags.filter((f) => !f.startsWith("--allow-net")),
      ["asset-lock", "validate", `${dir}/swift.lock.parquet`],
      swift,
    );
    equal(noNet.code, 4, "a missing permission exits 4, not as a failed row");
    equal(noNet.stderr.trim().split("\n").length, 1, noNet.stderr);
    match(noNet.stderr, /--allow-net/);

    const noRead = await sandboxed(
      [`--allow-read=${nodeModules}`],
      ["store", "stat", `${dir}/a.bin`],
      {},
    );
    equal(noRead.code, 4);
    match(noRead.stderr, /^ferry store stat: .*--allow-read flag\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
