/**
 * Test packages for the OCI tests, built with ferry itself from the shipped
 * demo (`items from-json | build --include-assets --includes README.md`),
 * plus a folder include and unique bytes (so every test's blobs are new to
 * the shared registry).
 */
import { runCliBytes } from "./_cli.ts";

const DEMO = new URL("../examples/demo/", import.meta.url).pathname;

/** Every file below `dir`, as sorted relative path → bytes. */
export async function filesOf(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path);
      else out.set(path, await Deno.readFile(`${dir}/${path}`));
    }
  };
  await walk("");
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Builds a package in `dir` (created) with ferry: the demo items and their
 * assets, README.md, a `docs/` folder (nested, one executable file) and a
 * unique `unique.txt`.
 *
 * @param dir The package folder to create.
 * @param extraAssetBytes Size of an extra random asset file, when wanted.
 * @returns The folder.
 */
export async function buildTestPackage(dir: string, extraAssetBytes = 0): Promise<string> {
  const items = JSON.parse(await Deno.readTextFile(`${DEMO}items.json`));
  // Absolute hrefs, so the build runs from any working folder.
  const absolute = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(absolute);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          k === "href" && typeof v === "string" && !v.includes("://") ? `${DEMO}${v}` : absolute(v),
        ]),
      );
    }
    return value;
  };
  const json = new TextEncoder().encode(JSON.stringify(absolute(items)));
  const scratch = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${scratch}/items.json`, json);
    const ipc = await runCliBytes(["items", "from-json", `${scratch}/items.json`]);
    if (ipc.code !== 0) throw new Error(`items from-json failed: ${ipc.stderr}`);
    const built = await runCliBytes(
      ["build", dir, "--include-assets", "--includes", `${DEMO}README.md`],
      ipc.stdout,
    );
    if (built.code !== 0) throw new Error(`build failed: ${built.stderr}`);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
  await Deno.mkdir(`${dir}/docs/guides`, { recursive: true });
  await Deno.writeTextFile(`${dir}/docs/index.md`, "# Docs\n");
  await Deno.writeTextFile(`${dir}/docs/guides/run.sh`, "#!/bin/sh\necho ok\n");
  await Deno.chmod(`${dir}/docs/guides/run.sh`, 0o755);
  await Deno.writeTextFile(`${dir}/unique.txt`, `${crypto.randomUUID()}\n`);
  if (extraAssetBytes > 0) {
    await Deno.mkdir(`${dir}/assets/extra`, { recursive: true });
    const bytes = new Uint8Array(extraAssetBytes);
    for (let i = 0; i < bytes.length; i += 65536) {
      crypto.getRandomValues(bytes.subarray(i, i + 65536));
    }
    await Deno.writeFile(`${dir}/assets/extra/big.bin`, bytes);
  }
  return dir;
}
