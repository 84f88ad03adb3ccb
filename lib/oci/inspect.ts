/**
 * `ferry inspect oci://…`: a remote package's files, sizes and digests,
 * read from its manifest alone (no blob is fetched).
 *
 * @module
 */
import { openRegistry, type RegistryOptions } from "./client.ts";
import { parsePackageManifest, titleOf } from "./manifest.ts";
import {
  formatReference,
  manifestReference,
  type OciReference,
  parseReference,
} from "./reference.ts";
import { mdCell, yamlText } from "../package/inspect.ts";

/** One layer of a remote package. */
export interface RemotePackageFile {
  /** Its title (package-relative path; a folder for a ZIP layer), or `layer N` when untitled. */
  path: string;
  /** The layer's media type. */
  mediaType: string;
  /** Its size in bytes. */
  size: number;
  /** `sha256:` + hex. */
  digest: string;
}

/** What {@linkcode inspectRemotePackage} reports. */
export interface RemotePackageInfo {
  /** The reference, with the manifest digest. */
  reference: string;
  /** The manifest digest. */
  digest: string;
  /** The manifest's `artifactType`, if any. */
  artifactType: string | null;
  /** The layers, in manifest order. */
  files: RemotePackageFile[];
  /** The sum of the layer sizes. */
  totalSize: number;
}

/**
 * Describes a remote package from its manifest.
 *
 * @example Inspecting a pushed package (network, not run)
 * ```ts ignore
 * import { inspectRemotePackage } from "./inspect.ts";
 * const info = await inspectRemotePackage("oci://127.0.0.1:5000/team/pkg:v1", { plainHttp: true });
 * console.log(info.files.map((f) => f.path));
 * ```
 *
 * @param source `oci://host[:port]/repository[:tag|@digest]`, or its parts.
 * @param options Transport and auth.
 * @returns The description.
 */
export async function inspectRemotePackage(
  source: string | OciReference,
  options: RegistryOptions = {},
): Promise<RemotePackageInfo> {
  const ref = typeof source === "string" ? parseReference(source) : source;
  const where = formatReference(ref);
  const client = await openRegistry(ref.registry, options);
  const fetched = await client.getManifest(ref.repository, manifestReference(ref));
  const manifest = parsePackageManifest(fetched.bytes, where);
  const files = manifest.layers.map((layer, i) => ({
    path: titleOf(layer) ?? `layer ${i}`,
    mediaType: layer.mediaType,
    size: layer.size,
    digest: layer.digest,
  }));
  return {
    reference: formatReference({ ...ref, digest: fetched.digest }),
    digest: fetched.digest,
    artifactType: manifest.artifactType ?? null,
    files,
    totalSize: files.reduce((n, f) => n + f.size, 0),
  };
}

/**
 * Renders a remote package description as YAML, JSON or Markdown.
 *
 * @example Markdown
 * ```ts
 * import { formatRemotePackageInfo } from "./inspect.ts";
 * import { ok } from "node:assert/strict";
 * const text = formatRemotePackageInfo({
 *   reference: "oci://r/p:latest@sha256:" + "0".repeat(64), digest: "sha256:" + "0".repeat(64),
 *   artifactType: null, totalSize: 3,
 *   files: [{ path: "items.parquet", mediaType: "x", size: 3, digest: "sha256:" + "1".repeat(64) }],
 * }, "markdown");
 * ok(text.includes("| `items.parquet` | x | 3 |"));
 * ```
 *
 * @param info The description.
 * @param format `yaml`, `json` or `markdown`.
 * @returns The text, ending in a newline.
 */
export function formatRemotePackageInfo(
  info: RemotePackageInfo,
  format: "yaml" | "json" | "markdown",
): string {
  if (format === "json") return JSON.stringify(info, null, 2) + "\n";
  if (format === "yaml") return yamlText(info);
  const lines = [
    "# ferry inspect",
    "",
    `- Reference: \`${info.reference}\``,
    `- Artifact type: ${info.artifactType ?? "none"}`,
    `- Layers: ${info.files.length} (${info.totalSize} bytes)`,
    "",
    "## Files",
    "",
    "| path | media type | size | digest |",
    "| --- | --- | ---: | --- |",
    ...info.files.map((f) =>
      `| \`${mdCell(f.path)}\` | ${mdCell(f.mediaType)} | ${f.size} | \`${f.digest}\` |`
    ),
  ];
  return lines.join("\n") + "\n";
}
