/**
 * OCI benchmark (issue 14): `ferry push` / `ferry pull` of a 1 GiB package
 * (1 × 512 MiB + 64 × 8 MiB random assets) against `skopeo copy` of the same
 * artifact as an OCI layout, one run each, wall time and peak RSS from
 * `/usr/bin/time`.
 *
 * `deno run -A bench/oci_bench.ts [--small]` (needs `docker-registry`,
 * `skopeo`, `/usr/bin/time`; `--small`: 1 × 64 MiB + 16 × 4 MiB):
 *
 * - data: the assets under `bench/data/oci-*` (gitignored, kept between
 *   runs), built into a package with ferry (`items from-json | build
 *   --include-assets`);
 * - a fresh registry of its own (no auth, plain HTTP, state in a temporary
 *   folder): `ferry push` into it; `skopeo copy docker://… oci:LAYOUT` (the
 *   layout skopeo pushes from, built without ferry; timed as skopeo's pull);
 *   `ferry pull` of the same reference;
 * - a second fresh registry: `skopeo copy oci:LAYOUT docker://…` (skopeo's
 *   push).
 *
 * Prints a Markdown section for bench/RESULTS.md.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { startRegistry } from "../tests/_registry.ts";
import { randomFile } from "./_data.ts";

const MIB = 2 ** 20;
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Measured {
  seconds: number;
  maxRssMiB: number;
}

async function measure(argv: string[], cwd = ROOT): Promise<Measured> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %M", ...argv],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code !== 0) {
    throw new Error(`${argv.join(" ")} exited ${out.code}:\n${stderr.slice(-2000)}`);
  }
  const [seconds, kib] = stderr.split("\n").at(-1)!.split(" ").map(Number);
  return { seconds: seconds!, maxRssMiB: kib! / 1024 };
}

async function buildPackage(
  dataDir: string,
  big: number,
  count: number,
  each: number,
): Promise<string> {
  const src = `${dataDir}/src`;
  const pkg = `${dataDir}/pkg`;
  await Deno.mkdir(src, { recursive: true });
  const names = [
    "big.bin",
    ...Array.from({ length: count }, (_, i) => `part-${String(i).padStart(3, "0")}.bin`),
  ];
  await randomFile(`${src}/big.bin`, big);
  for (const name of names.slice(1)) await randomFile(`${src}/${name}`, each);
  const done = `${pkg}/assets.lock.parquet`;
  try {
    await Deno.stat(done);
    return pkg;
  } catch {
    // build it
  }
  const items = {
    type: "FeatureCollection",
    features: names.map((name, i) => ({
      type: "Feature",
      stac_version: "1.0.0",
      id: `item-${i}`,
      collection: "bench",
      geometry: { type: "Point", coordinates: [16.37, 48.2] },
      bbox: [16.37, 48.2, 16.37, 48.2],
      properties: { datetime: "2024-01-01T00:00:00Z" },
      assets: { data: { href: `${src}/${name}`, type: "application/octet-stream" } },
      links: [],
    })),
  };
  await Deno.writeTextFile(`${dataDir}/items.json`, JSON.stringify(items));
  const run = (args: string[], stdin?: Uint8Array) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/cli.ts`, ...args],
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    if (stdin) {
      const w = child.stdin.getWriter();
      w.write(stdin).then(() => w.close());
    }
    return child.output();
  };
  const ipc = await run(["items", "from-json", `${dataDir}/items.json`]);
  if (!ipc.success) throw new Error("items from-json failed");
  const built = await run(["build", pkg, "--include-assets"], ipc.stdout);
  if (!built.success) throw new Error("build failed");
  return pkg;
}

async function duBytes(path: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(path)) {
    const p = `${path}/${e.name}`;
    total += e.isDirectory ? await duBytes(p) : (await Deno.stat(p)).size;
  }
  return total;
}

async function main(): Promise<void> {
  const small = Deno.args.includes("--small");
  const [big, count, each] = small ? [64 * MIB, 16, 4 * MIB] : [512 * MIB, 64, 8 * MIB];
  const dataDir = `${ROOT}/bench/data/oci-${small ? "small" : "full"}`;
  console.error(`building ${dataDir} ...`);
  const pkg = await buildPackage(dataDir, big, count, each);
  const totalMiB = (await duBytes(pkg)) / MIB;
  const work = await Deno.makeTempDir({ prefix: "ferry-oci-bench-" });
  const results: [string, Measured][] = [];
  try {
    let registry = await startRegistry();
    try {
      const ref = `${registry.host}/bench/pkg:v1`;
      console.error("ferry push ...");
      results.push([
        "ferry push",
        await measure(["deno", "run", "-A", "cli.ts", "push", pkg, `oci://${ref}`, "--plain-http"]),
      ]);
      console.error("skopeo copy docker:// → oci: (skopeo pull) ...");
      results.push([
        "skopeo copy docker:// → oci: (pull)",
        await measure([
          "skopeo",
          "copy",
          "--src-tls-verify=false",
          `docker://${ref}`,
          `oci:${work}/layout:v1`,
        ]),
      ]);
      console.error("ferry pull ...");
      results.push([
        "ferry pull",
        await measure([
          "deno",
          "run",
          "-A",
          "cli.ts",
          "pull",
          `oci://${ref}`,
          "--plain-http",
          "--output-dir",
          `${work}/pulled`,
        ]),
      ]);
    } finally {
      await registry.stop();
    }
    registry = await startRegistry();
    try {
      console.error("skopeo copy oci: → docker:// (skopeo push) ...");
      results.push([
        "skopeo copy oci: → docker:// (push)",
        await measure([
          "skopeo",
          "copy",
          "--dest-tls-verify=false",
          `oci:${work}/layout:v1`,
          `docker://${registry.host}/bench/pkg:v1`,
        ]),
      ]);
    } finally {
      await registry.stop();
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const get = (name: string) => results.find(([n]) => n.startsWith(name))![1];
  const row = ([name, m]: [string, Measured]) =>
    `| ${name} | ${m.seconds.toFixed(2)} | ${(totalMiB / m.seconds).toFixed(0)} | ${
      m.maxRssMiB.toFixed(0)
    } |`;
  console.log(
    `### OCI push/pull (${totalMiB.toFixed(0)} MiB package: 1 × ${big / MIB} MiB + ${count} × ${
      each / MIB
    } MiB, one run)

| command | seconds | MiB/s | peak RSS MiB |
| --- | ---: | ---: | ---: |
${results.map(row).join("\n")}

- push: skopeo / ferry = ${
      (get("skopeo copy oci:").seconds / get("ferry push").seconds).toFixed(2)
    }×
- pull: skopeo / ferry = ${
      (get("skopeo copy docker:").seconds / get("ferry pull").seconds).toFixed(2)
    }×
`,
  );
}

if (import.meta.main) await main();
