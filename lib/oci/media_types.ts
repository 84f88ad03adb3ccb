/**
 * The media types of a stacpkg package artifact, and the media type of a
 * top-level package file by its name.
 *
 * @module
 */

/** The manifest's media type. */
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
/** An image index (refused on pull: a package is one manifest). */
export const OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
/** The manifest's `artifactType`. */
export const PACKAGE_ARTIFACT_TYPE = "application/vnd.stacpkg.package.v1+json";
/** The config descriptor's media type (the OCI empty descriptor). */
export const EMPTY_CONFIG_MEDIA_TYPE = "application/vnd.oci.empty.v1+json";
/** The digest of the empty config blob `{}`. */
export const EMPTY_CONFIG_DIGEST =
  "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
/** The bytes of the empty config blob. */
export const EMPTY_CONFIG_BYTES: Uint8Array = new TextEncoder().encode("{}");
/** The layer holding `items.parquet`. */
export const ITEMS_MEDIA_TYPE = "application/vnd.stacpkg.items.v1.parquet";
/** The layer holding `assets.lock.parquet`. */
export const ASSET_LOCK_MEDIA_TYPE = "application/vnd.stacpkg.asset-lock.v1.parquet";
/** A folder of the package as one deterministic ZIP. */
export const FILES_ZIP_MEDIA_TYPE = "application/vnd.stacpkg.files.v1+zip";
/** One file under `assets/`. */
export const ASSET_MEDIA_TYPE = "application/vnd.stacpkg.asset.v1";
/** Assets as a ZIP (stacpkg extracts it on pull; it never writes one). */
export const ASSET_ZIP_MEDIA_TYPE = "application/vnd.stacpkg.asset.v1+zip";
/** The annotation holding a layer's package-relative path. */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";
/** Any `.parquet` file other than the items and the lock. */
export const PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet";
/** A file whose extension names no known type. */
export const OCTET_STREAM = "application/octet-stream";

// What Python 3.11's `mimetypes.guess_type` answers on Debian 12 for these
// extensions (stacpkg asks it); extensions it does not know map to nothing.
const TYPES: Readonly<Record<string, string>> = {
  ".json": "application/json",
  ".geojson": "application/geo+json",
  ".txt": "text/plain",
  ".md": "text/markdown",
  ".csv": "text/csv",
  ".tsv": "text/tab-separated-values",
  ".html": "text/html",
  ".htm": "text/html",
  ".xml": "application/xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".webp": "image/webp",
  ".jp2": "image/jp2",
  ".svg": "image/svg+xml",
  ".bmp": "image/bmp",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".tar": "application/x-tar",
  ".zst": "application/zstd",
  ".7z": "application/x-7z-compressed",
  ".nc": "application/x-netcdf",
  ".h5": "application/x-hdf5",
  ".dbf": "application/vnd.dbf",
  ".gpkg": "application/geopackage+sqlite3",
  ".kml": "application/vnd.google-earth.kml+xml",
  ".kmz": "application/vnd.google-earth.kmz",
  ".gml": "application/gml+xml",
  ".las": "application/vnd.las",
  ".arrow": "application/vnd.apache.arrow.file",
  ".sqlite": "application/vnd.sqlite3",
  ".py": "text/x-python",
  ".js": "text/javascript",
  ".sh": "text/x-sh",
  ".rtf": "application/rtf",
};
// Python's rules: a compression suffix is an encoding, not a type
// ("x.tar.gz" is a tar), and a few short suffixes stand for two.
const ENCODINGS = new Set([".gz", ".Z", ".bz2", ".xz", ".br"]);
const SUFFIXES: Readonly<Record<string, string>> = {
  ".svgz": ".svg.gz",
  ".tgz": ".tar.gz",
  ".taz": ".tar.gz",
  ".tz": ".tar.gz",
  ".tbz2": ".tar.bz2",
  ".txz": ".tar.xz",
};

/** `posixpath.splitext`: leading dots of the name do not start an extension. */
function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  for (let i = 0; i < dot; i++) {
    if (name[i] !== ".") return [name.slice(0, dot), name.slice(dot)];
  }
  return [name, ""];
}

/**
 * The media type of a top-level package file, as stacpkg gives it:
 * `application/vnd.apache.parquet` for `*.parquet`, else the type of its
 * extension (compression suffixes are encodings, so `x.tar.gz` is a tar and
 * `x.gz` has none), else `application/octet-stream`.
 *
 * @example Types by extension
 * ```ts
 * import { layerMediaTypeOf } from "./media_types.ts";
 * import { equal } from "node:assert/strict";
 * equal(layerMediaTypeOf("README.md"), "text/markdown");
 * equal(layerMediaTypeOf("extra.parquet"), "application/vnd.apache.parquet");
 * equal(layerMediaTypeOf("data.tar.gz"), "application/x-tar");
 * equal(layerMediaTypeOf("data.gz"), "application/octet-stream");
 * equal(layerMediaTypeOf(".hidden"), "application/octet-stream");
 * ```
 *
 * @param name The file name.
 * @returns The media type.
 */
export function layerMediaTypeOf(name: string): string {
  if (name.endsWith(".parquet")) return PARQUET_MEDIA_TYPE;
  let [base, extension] = splitExtension(name);
  while (SUFFIXES[extension.toLowerCase()] !== undefined) {
    [base, extension] = splitExtension(base + SUFFIXES[extension.toLowerCase()]);
  }
  if (ENCODINGS.has(extension)) [base, extension] = splitExtension(base);
  return TYPES[extension.toLowerCase()] ?? OCTET_STREAM;
}
