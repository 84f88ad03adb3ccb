/**
 * `ferry pull`: a package artifact from a registry into a folder, by
 * stacpkg's rules (items and lock layers by media type, ZIP layers
 * extracted, any titled layer written to its title), and more strictly:
 * every title and ZIP entry is checked before a byte is fetched or written,
 * every blob streams through a `HashStream` expecting its digest and size
 * into a staging folder beside the output, and only when all of them
 * verified (and both Parquet files arrived) are the files moved into place.
 * A failure leaves nothing behind.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { HashStream } from "../pipeline/hash_stream.ts";
import { pooledMap } from "../pipeline/pool.ts";
import { ITEMS_FILE, LOCK_FILE } from "../package/inspect.ts";
import { checkSafePath } from "./artifact.ts";
import { openResumableBlob } from "./blob_reader.ts";
import { openRegistry, type RegistryOptions } from "./client.ts";
import { type Descriptor, parsePackageManifest, titleOf } from "./manifest.ts";
import {
  ASSET_LOCK_MEDIA_TYPE,
  ASSET_MEDIA_TYPE,
  ASSET_ZIP_MEDIA_TYPE,
  FILES_ZIP_MEDIA_TYPE,
  ITEMS_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  TITLE_ANNOTATION,
} from "./media_types.ts";
import {
  formatReference,
  manifestReference,
  type OciReference,
  parseReference,
} from "./reference.ts";
import { readZipEntries } from "./zip.ts";
import { pathExists } from "../fs.ts";

/** Options of {@linkcode pullPackage}. */
export interface PullOptions extends RegistryOptions {
  /** Blobs fetched at once. @default 4 */
  concurrency?: number | undefined;
  /** A blob GET that broke off was resumed from this offset (tests, progress). */
  onResume?: ((offset: number) => void) | undefined;
  /** Bytes fetched, as they arrive. */
  onBytes?: ((bytes: number) => void) | undefined;
}

/** What {@linkcode pullPackage} did. */
export interface PullReport {
  /** The reference, with the manifest digest. */
  reference: string;
  /** The manifest digest. */
  digest: string;
  /** The output folder. */
  outputDir: string;
  /** The files written, package-relative, sorted. */
  files: string[];
  /** Bytes of blobs fetched. */
  blobBytes: number;
}

/** Where a layer goes. */
export type LayerTarget = { kind: "file"; path: string } | { kind: "zip" };

/**
 * Where each layer of a package manifest goes, by stacpkg's rules; refuses
 * unsafe titles, untitled layers of unknown type and two layers with one path.
 *
 * @example
 * ```ts
 * import { layerTargets } from "./pull.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * const d = (mediaType: string, title?: string) => ({
 *   mediaType, digest: "sha256:" + "0".repeat(64), size: 1,
 *   annotations: title === undefined ? undefined : { "org.opencontainers.image.title": title },
 * });
 * deepEqual(layerTargets([d("application/vnd.stacpkg.items.v1.parquet", "x"), d("text/plain", "a/b.txt")], "ref"), [
 *   { kind: "file", path: "items.parquet" }, { kind: "file", path: "a/b.txt" },
 * ]);
 * throws(() => layerTargets([d("text/plain", "../x")], "ref"), SyntaxError);
 * throws(() => layerTargets([d("text/plain")], "ref"), SyntaxError);
 * ```
 *
 * @param layers The manifest's layers.
 * @param where The reference, for messages.
 * @returns One target per layer.
 * @throws {SyntaxError} Naming the layer.
 */
export function layerTargets(layers: readonly Descriptor[], where: string): LayerTarget[] {
  const seen = new Set<string>();
  return layers.map((layer, index) => {
    const title = titleOf(layer);
    let target: LayerTarget;
    if (layer.mediaType === ITEMS_MEDIA_TYPE) target = { kind: "file", path: ITEMS_FILE };
    else if (layer.mediaType === ASSET_LOCK_MEDIA_TYPE) target = { kind: "file", path: LOCK_FILE };
    else if (layer.mediaType === FILES_ZIP_MEDIA_TYPE || layer.mediaType === ASSET_ZIP_MEDIA_TYPE) {
      return { kind: "zip" };
    } else if (title !== undefined) {
      target = { kind: "file", path: checkSafePath(title, `layer ${index} title in "${where}"`) };
    } else if (layer.mediaType === ASSET_MEDIA_TYPE) {
      throw new SyntaxError(
        `Invalid package "${where}": layer ${index} has no ${TITLE_ANNOTATION}`,
      );
    } else {
      throw new SyntaxError(
        `Invalid package "${where}": layer ${index} has media type "${layer.mediaType}" and no ${TITLE_ANNOTATION}`,
      );
    }
    if (seen.has(target.path)) {
      throw new SyntaxError(
        `Invalid package "${where}": layer ${index} writes "${target.path}" again`,
      );
    }
    seen.add(target.path);
    return target;
  });
}

async function stagedFiles(root: string, relative = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(relative ? join(root, relative) : root)) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory) out.push(...await stagedFiles(root, path));
    else out.push(path);
  }
  return out;
}

/**
 * Pulls a package artifact into `outputDir` (created if missing; files
 * already there with the same paths are replaced, others kept), verifying
 * every blob before anything is moved into place.
 *
 * @example Pulling a package (network, not run)
 * ```ts ignore
 * import { pullPackage } from "./pull.ts";
 * const report = await pullPackage("oci://127.0.0.1:5000/team/pkg:v1", "pkg", { plainHttp: true });
 * console.log(report.files);
 * ```
 *
 * @param source `oci://host[:port]/repository[:tag|@digest]`, or its parts.
 * @param outputDir The folder to fill.
 * @param options Transport, auth, concurrency.
 * @returns What was pulled.
 * @throws {SyntaxError} When the manifest is not a package (unsafe titles, unknown untitled layers, missing Parquet files).
 * @throws {ChecksumMismatchError} When a blob does not match its digest or size.
 * @throws {NotFoundError} When the manifest or a blob is not there.
 */
export async function pullPackage(
  source: string | OciReference,
  outputDir: string,
  options: PullOptions = {},
): Promise<PullReport> {
  const ref = typeof source === "string" ? parseReference(source) : source;
  const where = formatReference(ref);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Invalid concurrency ${concurrency}: expected a positive integer`);
  }
  const client = await openRegistry(ref.registry, options);
  const fetched = await client.getManifest(ref.repository, manifestReference(ref));
  if (fetched.mediaType === OCI_INDEX_MEDIA_TYPE || fetched.mediaType.includes("manifest.list")) {
    throw new SyntaxError(
      `Invalid package "${where}": it is an image index, not a package manifest`,
    );
  }
  const manifest = parsePackageManifest(fetched.bytes, where);
  const targets = layerTargets(manifest.layers, where);

  const output = outputDir.replace(/\/+$/, "") || "/";
  const parent = dirname(output);
  const created = await firstMissing(parent);
  await Deno.mkdir(parent, { recursive: true });
  let staging = "";
  let done = false;
  try {
    staging = await Deno.makeTempDir({ dir: parent, prefix: `.${basename(output)}.ferry-pull-` });
    const tree = join(staging, "tree");
    await Deno.mkdir(tree);
    let blobBytes = 0;
    const fetchLayer = async (index: number): Promise<void> => {
      const layer = manifest.layers[index]!;
      const target = targets[index]!;
      const path = target.kind === "file"
        ? join(tree, target.path)
        : join(staging, `layer-${index}.zip`);
      await Deno.mkdir(dirname(path), { recursive: true });
      const hash = new HashStream({
        expected: { size: layer.size, sha256: layer.digest.slice(7) },
        key: titleOf(layer) ?? `layer ${index}`,
        onBytes: (n) => {
          blobBytes += n;
          options.onBytes?.(n);
        },
      });
      const file = await Deno.open(path, { write: true, createNew: true });
      await openResumableBlob(client, ref.repository, layer, { onResume: options.onResume })
        .pipeThrough(hash)
        .pipeTo(file.writable);
      await hash.digest;
    };
    const indexes = manifest.layers.map((_, i) => i);
    for await (const _ of pooledMap(concurrency, indexes, fetchLayer, { signal: options.signal })) {
      // every blob verified before anything moves
    }
    const written = new Set(targets.flatMap((t) => (t.kind === "file" ? [t.path] : [])));
    for (const [index, target] of targets.entries()) {
      if (target.kind === "zip") {
        await extractLayer(
          join(staging, `layer-${index}.zip`),
          tree,
          written,
          `layer ${index} of "${where}"`,
        );
      }
    }
    for (const required of [ITEMS_FILE, LOCK_FILE]) {
      if (!written.has(required)) {
        throw new SyntaxError(`Invalid package "${where}": the artifact has no ${required}`);
      }
    }
    await moveIntoPlace(tree, output);
    done = true;
    return {
      reference: formatReference({ ...ref, digest: fetched.digest }),
      digest: fetched.digest,
      outputDir,
      files: [...written].sort(),
      blobBytes,
    };
  } finally {
    if (staging) await Deno.remove(staging, { recursive: true }).catch(() => {});
    if (!done && created) await Deno.remove(created, { recursive: true }).catch(() => {});
  }
}

/** The outermost missing folder on the way to `path` (a failed pull removes it again). */
async function firstMissing(path: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let p = path; !(await pathExists(p)); p = dirname(p)) {
    missing = p;
    if (dirname(p) === p) break;
  }
  return missing;
}

async function extractLayer(
  zipPath: string,
  tree: string,
  written: Set<string>,
  what: string,
): Promise<void> {
  for await (const entry of readZipEntries(zipPath, what)) {
    const name = entry.directory ? entry.name.replace(/\/$/, "") : entry.name;
    checkSafePath(name, `ZIP entry in ${what}`);
    const path = join(tree, name);
    if (entry.directory) {
      await Deno.mkdir(path, { recursive: true });
      continue;
    }
    if (written.has(name)) {
      throw new SyntaxError(`Invalid ZIP entry "${name}" in ${what}: written twice`);
    }
    written.add(name);
    await Deno.mkdir(dirname(path), { recursive: true });
    const file = await Deno.open(path, { write: true, createNew: true });
    await entry.writeTo(file.writable);
    const permissions = entry.mode & 0o777;
    if ((entry.mode & 0o170000) === 0o100000 && permissions !== 0) {
      await Deno.chmod(path, permissions);
    }
  }
}

/** The staged tree into `output`: one rename when it does not exist yet, else file by file. */
async function moveIntoPlace(tree: string, output: string): Promise<void> {
  if (!(await pathExists(output))) {
    await Deno.rename(tree, output);
    return;
  }
  const info = await Deno.stat(output);
  if (!info.isDirectory) throw new TypeError(`Output "${output}" is not a folder`);
  for (const path of await stagedFiles(tree)) {
    await Deno.mkdir(dirname(join(output, path)), { recursive: true });
    await Deno.rename(join(tree, path), join(output, path));
  }
}
