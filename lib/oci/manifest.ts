/**
 * The package manifest: written as stacpkg's registry client sends it
 * (Python's `json.dumps` defaults: `", "` and `": "` separators, non-ASCII
 * escaped, keys in stacpkg's order), and read back with every field a pull
 * relies on checked.
 *
 * @module
 */
import {
  EMPTY_CONFIG_DIGEST,
  EMPTY_CONFIG_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  PACKAGE_ARTIFACT_TYPE,
  TITLE_ANNOTATION,
} from "./media_types.ts";
import { pythonJson } from "../python_json.ts";

export { pythonJson };

/** An OCI content descriptor. */
export interface Descriptor {
  /** Media type. */
  mediaType: string;
  /** `sha256:` + hex. */
  digest: string;
  /** Size in bytes. */
  size: number;
  /** Annotations (a layer's title). */
  annotations?: Record<string, string> | undefined;
}

/** A package manifest's fields. */
export interface PackageManifest {
  /** Always 2. */
  schemaVersion: number;
  /** The manifest media type. */
  mediaType?: string | undefined;
  /** The artifact type. */
  artifactType?: string | undefined;
  /** The config descriptor. */
  config: Descriptor;
  /** The layers, in order. */
  layers: Descriptor[];
}

/** The config descriptor of every package (the OCI empty descriptor). */
export const EMPTY_CONFIG_DESCRIPTOR: Descriptor = {
  mediaType: EMPTY_CONFIG_MEDIA_TYPE,
  digest: EMPTY_CONFIG_DIGEST,
  size: 2,
};

/**
 * The manifest bytes of a package with these layers, as stacpkg writes them.
 *
 * @example
 * ```ts
 * import { packageManifestBytes } from "./manifest.ts";
 * import { ok } from "node:assert/strict";
 * const text = new TextDecoder().decode(packageManifestBytes([]));
 * ok(text.startsWith('{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType"'));
 * ```
 *
 * @param layers The layer descriptors, titled, in order.
 * @returns UTF-8 JSON.
 */
export function packageManifestBytes(layers: readonly Descriptor[]): Uint8Array {
  return new TextEncoder().encode(pythonJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: PACKAGE_ARTIFACT_TYPE,
    config: EMPTY_CONFIG_DESCRIPTOR,
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      annotations: l.annotations,
    })),
  }));
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function checkDescriptor(value: unknown, what: string, where: string): Descriptor {
  const d = value as Record<string, unknown> | null;
  const bad = (why: string) =>
    new SyntaxError(`Invalid package manifest "${where}": ${what} ${why}`);
  if (d === null || typeof d !== "object") throw bad("is not an object");
  if (typeof d.mediaType !== "string" || d.mediaType === "") throw bad("has no mediaType");
  if (typeof d.digest !== "string" || !DIGEST.test(d.digest)) {
    throw bad(`digest "${String(d.digest)}" is not sha256: + 64 hex digits`);
  }
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw bad(`size "${String(d.size)}" is not a byte count`);
  }
  const annotations = d.annotations;
  if (annotations !== undefined && annotations !== null) {
    if (typeof annotations !== "object" || Array.isArray(annotations)) {
      throw bad("annotations are not an object");
    }
    for (const [k, v] of Object.entries(annotations)) {
      if (typeof v !== "string") throw bad(`annotation "${k}" is not a string`);
    }
  }
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    annotations: (annotations ?? undefined) as Record<string, string> | undefined,
  };
}

/**
 * Parses and checks a package manifest: schema version 2, a config and
 * layers with media type, sha256 digest, size and string annotations.
 *
 * @example
 * ```ts
 * import { packageManifestBytes, parsePackageManifest } from "./manifest.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(parsePackageManifest(packageManifestBytes([]), "x").layers.length, 0);
 * throws(() => parsePackageManifest(new TextEncoder().encode("{}"), "x"), SyntaxError);
 * ```
 *
 * @param bytes The manifest's bytes.
 * @param where The reference, for messages.
 * @returns The manifest.
 * @throws {SyntaxError} Naming the field that is wrong.
 */
export function parsePackageManifest(bytes: Uint8Array, where: string): PackageManifest {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SyntaxError(`Invalid package manifest "${where}": not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SyntaxError(`Invalid package manifest "${where}": not an object`);
  }
  if (value.schemaVersion !== 2) {
    throw new SyntaxError(
      `Invalid package manifest "${where}": schemaVersion is ${
        JSON.stringify(value.schemaVersion)
      }, expected 2`,
    );
  }
  if (!Array.isArray(value.layers)) {
    throw new SyntaxError(`Invalid package manifest "${where}": layers is not a list`);
  }
  return {
    schemaVersion: 2,
    mediaType: typeof value.mediaType === "string" ? value.mediaType : undefined,
    artifactType: typeof value.artifactType === "string" ? value.artifactType : undefined,
    config: checkDescriptor(value.config, "config", where),
    layers: value.layers.map((layer, i) => checkDescriptor(layer, `layer ${i}`, where)),
  };
}

/**
 * The title annotation of a descriptor, if any.
 *
 * @param descriptor A layer.
 * @returns Its `org.opencontainers.image.title`.
 */
export function titleOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[TITLE_ANNOTATION];
}
