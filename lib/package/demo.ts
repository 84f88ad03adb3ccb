/**
 * The offline demo behind `deno task demo`: build a package from the items
 * shipped in `examples/demo/`, describe it, and check its lock against the
 * packaged bytes.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { itemsFromJson, type StacItem } from "../stac/mod.ts";
import { type RowValidation, validateLock } from "../lock/validate.ts";
import { readLockParquetRows } from "../lock/parquet.ts";
import { isRelativeHref, relativeHrefResolver } from "../stores/location.ts";
import { buildPackage } from "./build.ts";
import { formatPackageInfo, inspectPackage, LOCK_FILE } from "./inspect.ts";

/** The folder of the shipped example. */
export const DEMO_DIR: string = fileURLToPath(new URL("../../examples/demo", import.meta.url));

/** Options of {@linkcode runDemo}. */
export interface DemoOptions {
  /** The package folder to create (must not exist). @default a new temporary folder's `package` */
  outputDir?: string | undefined;
  /** The example folder holding `items.json` and the asset files. @default {@linkcode DEMO_DIR} */
  exampleDir?: string | undefined;
  /** Receives the text to show, piece by piece. */
  print?: ((text: string) => Promise<void> | void) | undefined;
}

/** What {@linkcode runDemo} did. */
export interface DemoResult {
  /** The package folder. */
  package: string;
  /** One check per lock row. */
  checks: RowValidation[];
  /** True when every row is valid. */
  valid: boolean;
}

/**
 * Resolves an item's relative asset hrefs against a folder (absolute paths
 * and URLs are kept).
 *
 * @example
 * ```ts
 * import { resolveAssetHrefs } from "./demo.ts";
 * import { equal } from "node:assert/strict";
 * const item = resolveAssetHrefs({ id: "a", assets: { d: { href: "x/y.csv" } } } as never, "/data");
 * equal(item.assets.d!.href, "/data/x/y.csv");
 * ```
 *
 * @param item The item.
 * @param baseDir The folder relative hrefs are relative to.
 * @returns A copy with absolute asset hrefs.
 */
export function resolveAssetHrefs(item: StacItem, baseDir: string): StacItem {
  const assets: StacItem["assets"] = {};
  const resolve = relativeHrefResolver(`${baseDir.replace(/\/$/, "")}/`);
  for (const [key, asset] of Object.entries(item.assets ?? {})) {
    const href = asset.href;
    const relative = typeof href === "string" && href !== "" && isRelativeHref(href);
    assets[key] = relative ? { ...asset, href: resolve(href) } : asset;
  }
  return { ...item, assets };
}

/**
 * Builds the demo package (`--include-assets --checksum sha256`, the example's
 * README as an include), prints `inspect --format markdown`, then checks every
 * lock row's size and checksum against the packaged files.
 *
 * @param options Output folder, example folder, printer.
 * @returns The package and the checks.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const exampleDir = options.exampleDir ?? DEMO_DIR;
  const print = options.print ?? (() => {});
  const outputDir = options.outputDir ??
    `${await Deno.makeTempDir({ prefix: "ferry-demo-" })}/package`;
  const file = await Deno.open(`${exampleDir}/items.json`);
  const items = (async function* () {
    for await (
      const batch of itemsFromJson(file.readable, { source: `${exampleDir}/items.json` })
    ) {
      yield batch.map((item) => resolveAssetHrefs(item, exampleDir));
    }
  })();
  await print(
    `Building a package from ${exampleDir}/items.json into ${outputDir}\n` +
      `(assets copied in, SHA-256 recorded; the metadata assets stay out, as in stacpkg)\n\n`,
  );
  await buildPackage(items, outputDir, {
    includeAssets: true,
    checksum: "sha256",
    includes: [`${exampleDir}/README.md`],
  });
  await print(formatPackageInfo(await inspectPackage(outputDir), "markdown"));
  const rows = await readLockParquetRows(`${outputDir}/${LOCK_FILE}`);
  const { results: checks } = await validateLock([rows], { baseDir: outputDir, deep: true });
  const valid = checks.every((c) => c.valid);
  const lines = checks.map((c) =>
    `- ${c.valid ? "ok" : "INVALID"} ${c.item_id}/${c.asset_key} \`${c.key}\`${
      c.errors.length ? `: ${c.errors.join("; ")}` : ""
    }`
  );
  await print(
    `\n## Lock check\n\n${lines.join("\n")}\n\n${
      checks.filter((c) => c.valid).length
    } of ${checks.length} assets match their locked size and SHA-256.\n`,
  );
  return { package: outputDir, checks, valid };
}
