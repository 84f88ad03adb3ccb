/**
 * A package folder as the layers of a stacpkg artifact, in stacpkg's order:
 * `items.parquet`, `assets.lock.parquet`, then the other top-level entries
 * by name (a file → one layer, `assets/` → one layer per file, any other
 * folder → one ZIP layer), skipping a top-level `manifest.json`.
 *
 * @module
 */
import { ASSETS_FOLDER, ITEMS_FILE, LOCK_FILE } from "../package/inspect.ts";
import {
  ASSET_LOCK_MEDIA_TYPE,
  ASSET_MEDIA_TYPE,
  FILES_ZIP_MEDIA_TYPE,
  ITEMS_MEDIA_TYPE,
  layerMediaTypeOf,
} from "./media_types.ts";
import { compareCodePoints, comparePaths } from "../path_order.ts";

export { comparePaths };

/** One file that goes into a folder's ZIP layer. */
export interface ZipSourceFile {
  /** The entry name: the path relative to the package root, `/`-separated. */
  name: string;
  /** Where the file is. */
  path: string;
  /** Its `st_mode` (type and permission bits), kept in the entry's external attributes. */
  mode: number;
}

/** Where a layer's bytes come from. */
export type LayerSource =
  | { kind: "file"; path: string }
  | { kind: "zip"; files: ZipSourceFile[] };

/** One layer to push, before its digest is known. */
export interface PlannedLayer {
  /** The `org.opencontainers.image.title`: a package-relative POSIX path. */
  title: string;
  /** The layer's media type. */
  mediaType: string;
  /** Its bytes: a file, or a folder to zip. */
  source: LayerSource;
}

/**
 * Checks that a package-relative path is safe to write below a folder: not
 * empty, not absolute, no `\`, no empty, `.` or `..` part.
 *
 * @example
 * ```ts
 * import { checkSafePath } from "./artifact.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(checkSafePath("assets/a/b.tif", "title"), "assets/a/b.tif");
 * throws(() => checkSafePath("../etc/passwd", "title"), SyntaxError);
 * throws(() => checkSafePath("/abs", "title"), SyntaxError);
 * ```
 *
 * @param value The path.
 * @param what What it is, for the error (e.g. `layer 3 title`).
 * @returns The path.
 * @throws {SyntaxError} When it is unsafe.
 */
export function checkSafePath(value: string, what: string): string {
  let why: string | undefined;
  if (value === "") why = "it is empty";
  else if (value.startsWith("/")) why = "it is absolute";
  else if (value.includes("\\")) why = 'it contains "\\"';
  else if (value.includes("\0")) why = "it contains a NUL character";
  else {
    const bad = value.split("/").find((part) => part === "" || part === "." || part === "..");
    if (bad !== undefined) why = `it has a${bad === "" ? "n empty" : ` "${bad}"`} part`;
  }
  if (why !== undefined) throw new SyntaxError(`Unsafe ${what} "${value}": ${why}`);
  return value;
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined; // a dangling link
    throw error;
  }
}

/**
 * Every file below `dir` (links to files followed, links to folders not
 * entered), as paths relative to `root`, in {@linkcode comparePaths} order.
 */
async function filesBelow(root: string, relative: string): Promise<ZipSourceFile[]> {
  const out: ZipSourceFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${root}/${rel}`)) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory) {
        await walk(child);
        continue;
      }
      const info = entry.isFile || entry.isSymlink
        ? await statOrUndefined(`${root}/${child}`)
        : undefined;
      if (info?.isFile) out.push({ name: child, path: `${root}/${child}`, mode: info.mode ?? 0 });
    }
  };
  await walk(relative);
  return out.sort((a, b) => comparePaths(a.name, b.name));
}

/**
 * The layers of a package folder, in stacpkg's order (see the module doc).
 * Nothing is read but folder listings.
 *
 * @example The layers of a small package
 * ```ts
 * import { planPackageLayers } from "./artifact.ts";
 * import { deepEqual } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * for (const f of ["items.parquet", "assets.lock.parquet", "README.md", "manifest.json"]) {
 *   await Deno.writeTextFile(`${dir}/${f}`, "x");
 * }
 * await Deno.mkdir(`${dir}/assets/item-1`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/assets/item-1/data.tif`, "x");
 * await Deno.mkdir(`${dir}/docs`);
 * await Deno.writeTextFile(`${dir}/docs/a.txt`, "x");
 * const layers = await planPackageLayers(dir);
 * deepEqual(layers.map((l) => [l.title, l.mediaType]), [
 *   ["items.parquet", "application/vnd.stacpkg.items.v1.parquet"],
 *   ["assets.lock.parquet", "application/vnd.stacpkg.asset-lock.v1.parquet"],
 *   ["README.md", "text/markdown"],
 *   ["assets/item-1/data.tif", "application/vnd.stacpkg.asset.v1"],
 *   ["docs", "application/vnd.stacpkg.files.v1+zip"],
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The package folder.
 * @returns The layers.
 * @throws {TypeError} When the folder does not hold `items.parquet` and `assets.lock.parquet`.
 * @throws {SyntaxError} When an entry's name is not a safe title (e.g. it contains `\`).
 */
export async function planPackageLayers(dir: string): Promise<PlannedLayer[]> {
  const info = await statOrUndefined(dir);
  if (!info?.isDirectory) {
    throw new TypeError(`Package "${dir}" is not a folder${info ? "" : ": it does not exist"}`);
  }
  const missing: string[] = [];
  for (const name of [ITEMS_FILE, LOCK_FILE]) {
    if (!(await statOrUndefined(`${dir}/${name}`))?.isFile) missing.push(name);
  }
  if (missing.length > 0) {
    throw new TypeError(`Package "${dir}" is not a package: missing ${missing.join(", ")}`);
  }
  const layers: PlannedLayer[] = [
    {
      title: ITEMS_FILE,
      mediaType: ITEMS_MEDIA_TYPE,
      source: { kind: "file", path: `${dir}/${ITEMS_FILE}` },
    },
    {
      title: LOCK_FILE,
      mediaType: ASSET_LOCK_MEDIA_TYPE,
      source: { kind: "file", path: `${dir}/${LOCK_FILE}` },
    },
  ];
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  names.sort(compareCodePoints);
  for (const name of names) {
    if (name === ITEMS_FILE || name === LOCK_FILE || name === "manifest.json") continue;
    checkSafePath(name, "package entry");
    const stat = await statOrUndefined(`${dir}/${name}`);
    if (stat?.isDirectory && name === ASSETS_FOLDER) {
      for (const file of await filesBelow(dir, name)) {
        layers.push({
          title: checkSafePath(file.name, "package path"),
          mediaType: ASSET_MEDIA_TYPE,
          source: { kind: "file", path: file.path },
        });
      }
    } else if (stat?.isDirectory) {
      const files = await filesBelow(dir, name);
      for (const file of files) checkSafePath(file.name, "package path");
      layers.push({ title: name, mediaType: FILES_ZIP_MEDIA_TYPE, source: { kind: "zip", files } });
    } else if (stat?.isFile) {
      layers.push({
        title: name,
        mediaType: layerMediaTypeOf(name),
        source: { kind: "file", path: `${dir}/${name}` },
      });
    }
  }
  return layers;
}
