/**
 * Describing a package: its files (media type, size, `sha256:` digest), item
 * count and collections, asset count, asset keys and known asset bytes, as
 * data, YAML, JSON or Markdown (stacpkg's shape).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { fileAsyncBuffer } from "../_file_buffer.ts";
import { parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { readLockParquet } from "../lock/parquet.ts";
import { pythonJsonIndented } from "../python_json.ts";
import { comparePaths } from "../path_order.ts";

/** The items file of a package. */
export const ITEMS_FILE = "items.parquet";
/** The asset lock file of a package. */
export const LOCK_FILE = "assets.lock.parquet";
/** The folder `--include-assets` copies asset bytes into. */
export const ASSETS_FOLDER = "assets";

/** One file of a package. */
export interface PackageFile {
  /** Path relative to the package root, `/`-separated. */
  path: string;
  /** Media type (as an OCI layer would carry it). */
  mediaType: string;
  /** Size in bytes. */
  size: number;
  /** `sha256:` + hex digest. */
  digest: string;
}

/** What {@linkcode inspectPackage} reports. */
export interface PackageInfo {
  /** The package folder as given. */
  package: string;
  /** Every file, sorted by path. */
  files: PackageFile[];
  /** Items. */
  items: { count: number; collections: string[] };
  /** Lock rows. */
  assets: {
    count: number;
    asset_keys: string[];
    known_size_bytes: number;
    known_size_count: number;
  };
}

/** The output formats of `ferry inspect`. */
export type InspectFormat = "yaml" | "json" | "markdown";

const MEDIA_TYPES: Record<string, string> = {
  parquet: "application/vnd.apache.parquet",
  json: "application/json",
  geojson: "application/geo+json",
  ndjson: "application/x-ndjson",
  tif: "image/tiff",
  tiff: "image/tiff",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  xml: "application/xml",
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  html: "text/html",
  yaml: "application/yaml",
  yml: "application/yaml",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  nc: "application/x-netcdf",
  h5: "application/x-hdf5",
  pdf: "application/pdf",
};

/**
 * The media type of a file by its extension (`application/octet-stream` when unknown).
 *
 * @example
 * ```ts
 * import { mediaTypeOf } from "./inspect.ts";
 * import { equal } from "node:assert/strict";
 * equal(mediaTypeOf("assets.lock.parquet"), "application/vnd.apache.parquet");
 * equal(mediaTypeOf("a/b"), "application/octet-stream");
 * ```
 *
 * @param path A file name or path.
 * @returns The media type.
 */
export function mediaTypeOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return "application/octet-stream";
  return MEDIA_TYPES[name.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Every file under `dir` with its media type, size and SHA-256 digest (each
 * file streamed through the hash), sorted by path.
 *
 * @param dir The package folder.
 * @returns The files.
 */
export async function packageFiles(dir: string): Promise<PackageFile[]> {
  const paths: string[] = [];
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(relative ? `${dir}/${relative}` : dir)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) paths.push(path);
    }
  };
  await walk("");
  paths.sort();
  const files: PackageFile[] = [];
  for (const path of paths) {
    const file = await Deno.open(`${dir}/${path}`);
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of file.readable) {
      hash.update(chunk);
      size += chunk.byteLength;
    }
    files.push({
      path,
      mediaType: mediaTypeOf(path),
      size,
      digest: `sha256:${hash.digest("hex")}`,
    });
  }
  return files;
}

async function itemFacts(path: string): Promise<PackageInfo["items"]> {
  const file = await Deno.open(path);
  try {
    const buffer = await fileAsyncBuffer(file);
    let metadata;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
      throw new SyntaxError(
        `Invalid items file "${path}": not a Parquet file or truncated (${
          (error as Error).message
        })`,
      );
    }
    const collections = new Set<string>();
    if (metadata.schema.some((e) => e.name === "collection")) {
      let start = 0;
      for (const group of metadata.row_groups) {
        const end = start + Number(group.num_rows);
        const rows = await parquetReadObjects({
          file: buffer,
          metadata,
          columns: ["collection"],
          rowStart: start,
          rowEnd: end,
          compressors,
        });
        for (const row of rows) {
          if (typeof row.collection === "string") collections.add(row.collection);
        }
        start = end;
      }
    }
    return { count: Number(metadata.num_rows), collections: [...collections].sort() };
  } finally {
    file.close();
  }
}

/**
 * Describes a package folder. Locks are read row group by row group.
 *
 * @param dir The package folder.
 * @returns The description.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @throws {SyntaxError} When the items file or the lock is not valid Parquet.
 */
export async function inspectPackage(dir: string): Promise<PackageInfo> {
  const info = await Deno.stat(dir).catch((error) => {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Package "${dir}" does not exist`);
    }
    throw error;
  });
  if (!info.isDirectory) throw new TypeError(`Package "${dir}" is not a folder`);
  // In stacpkg's order, as Python sorts paths: `assets/x` before `assets.lock.parquet`.
  const files = (await packageFiles(dir)).sort((a, b) => comparePaths(a.path, b.path));
  const has = (name: string) => files.some((f) => f.path === name);
  const items = has(ITEMS_FILE)
    ? await itemFacts(`${dir}/${ITEMS_FILE}`)
    : { count: 0, collections: [] };
  const assets = { count: 0, asset_keys: [] as string[], known_size_bytes: 0, known_size_count: 0 };
  if (has(LOCK_FILE)) {
    const keys = new Set<string>();
    for await (const rows of readLockParquet(`${dir}/${LOCK_FILE}`)) {
      for (const row of rows) {
        assets.count++;
        keys.add(row.asset_key);
        if (row.size_bytes !== null) {
          assets.known_size_bytes += row.size_bytes;
          assets.known_size_count++;
        }
      }
    }
    assets.asset_keys = [...keys].sort();
  }
  return { package: dir, files, items, assets };
}

/**
 * Parses an `--format` value (`md` is stacpkg's short name for `markdown`).
 *
 * @example
 * ```ts
 * import { parseInspectFormat } from "./inspect.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseInspectFormat("md"), "markdown");
 * ```
 *
 * @param value `yaml`, `json`, `markdown` or `md`.
 * @returns The format.
 * @throws {TypeError} For any other value.
 */
export function parseInspectFormat(value: string): InspectFormat {
  if (value === "yaml" || value === "json" || value === "markdown") return value;
  if (value === "md") return "markdown";
  throw new TypeError(`Invalid format "${value}": expected yaml, json or markdown`);
}

/**
 * Renders a package description.
 *
 * @example Markdown
 * ```ts
 * import { formatPackageInfo } from "./inspect.ts";
 * import { ok } from "node:assert/strict";
 * const text = formatPackageInfo({
 *   package: "pkg", files: [],
 *   items: { count: 2, collections: ["c"] },
 *   assets: { count: 3, asset_keys: ["data"], known_size_bytes: 10, known_size_count: 3 },
 * }, "markdown");
 * ok(text.includes("- Known asset bytes: 10"));
 * ```
 *
 * @param info The description.
 * @param format The output format.
 * @returns The text, ending in a newline.
 */
export function formatPackageInfo(info: PackageInfo, format: InspectFormat): string {
  // As stacpkg prints it: json.dumps(data, indent=2, sort_keys=True).
  if (format === "json") return pythonJsonIndented(info) + "\n";
  if (format === "yaml") return yamlText(info);
  const lines = [
    "# ferry inspect",
    "",
    `- Package: \`${info.package}\``,
    `- Items: ${info.items.count}`,
    `- Collections: ${info.items.collections.map(mdLine).join(", ") || "none"}`,
    `- Assets: ${info.assets.count}`,
    `- Asset keys: ${info.assets.asset_keys.map(mdLine).join(", ") || "none"}`,
    `- Known asset bytes: ${info.assets.known_size_bytes} (${info.assets.known_size_count} of ${info.assets.count} assets)`,
    "",
    "## Files",
    "",
  ];
  if (info.files.length === 0) lines.push("No files recorded.");
  else {
    lines.push("| path | media type | size | digest |", "| --- | --- | ---: | --- |");
    for (const f of info.files) {
      lines.push(`| \`${mdCell(f.path)}\` | ${f.mediaType} | ${f.size} | \`${f.digest}\` |`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Text kept on its Markdown line (line breaks shown as `\n`). */
function mdLine(text: string): string {
  return text.replace(/\r?\n|\r/g, "\\n");
}

/**
 * Text for a Markdown table cell: on one line, `|` escaped (also inside code spans).
 *
 * @param text The cell's text.
 * @returns The escaped text.
 */
export function mdCell(text: string): string {
  return mdLine(text).replace(/\|/g, "\\|");
}

/**
 * A value as the YAML `ferry inspect` prints (block style, strings quoted).
 *
 * @example
 * ```ts
 * import { yamlText } from "./inspect.ts";
 * import { equal } from "node:assert/strict";
 * equal(yamlText({ a: 1, b: ["x"] }), 'a: 1\nb:\n  - "x"\n');
 * ```
 *
 * @param value Objects, arrays and scalars.
 * @returns The YAML text, ending in a newline.
 */
export function yamlText(value: unknown): string {
  return yamlLines(value, 0).join("\n") + "\n";
}

function yamlScalar(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(String(value));
}

function yamlLines(value: unknown, indent: number): string[] {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${pad}[]`];
    return value.flatMap((item) => {
      if (item !== null && typeof item === "object") {
        const [first, ...rest] = yamlLines(item, indent + 2);
        return [`${pad}- ${first!.trimStart()}`, ...rest];
      }
      return [`${pad}- ${yamlScalar(item)}`];
    });
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return [`${pad}{}`];
    return entries.flatMap(([key, item]) =>
      item !== null && typeof item === "object" &&
        !(Array.isArray(item) && item.length === 0) &&
        !(!Array.isArray(item) && Object.keys(item).length === 0)
        ? [`${pad}${key}:`, ...yamlLines(item, indent + 2)]
        : [`${pad}${key}: ${yamlLines(item, 0)[0]}`]
    );
  }
  return [`${pad}${yamlScalar(value)}`];
}
