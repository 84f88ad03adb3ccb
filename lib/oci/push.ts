/**
 * `ferry push`: a package folder to a registry as stacpkg's artifact. Each
 * layer is hashed (folders zipped first), asked for with HEAD, and uploaded
 * only when the repository lacks it (or mounted from a named repository);
 * layers go `concurrency` at a time; the manifest goes last.
 *
 * @module
 */
import { HashStream } from "../pipeline/hash_stream.ts";
import { ConflictError } from "../stores/errors.ts";
import { pooledMap } from "../pipeline/pool.ts";
import { type PlannedLayer, planPackageLayers } from "./artifact.ts";
import { openRegistry, pushScope, type RegistryClient, type RegistryOptions } from "./client.ts";
import { type Descriptor, EMPTY_CONFIG_DESCRIPTOR, packageManifestBytes } from "./manifest.ts";
import { EMPTY_CONFIG_BYTES, OCI_MANIFEST_MEDIA_TYPE, TITLE_ANNOTATION } from "./media_types.ts";
import { formatReference, type OciReference, parseReference } from "./reference.ts";
import { type BlobSource, uploadBlob, type UploadOptions } from "./upload.ts";
import { writeDeterministicZip } from "./zip.ts";

/** Options of {@linkcode pushPackage}. */
export interface PushOptions extends RegistryOptions {
  /** Layers hashed and uploaded at once. @default 4 */
  concurrency?: number | undefined;
  /** Repositories of the same registry to mount missing blobs from. */
  mountFrom?: readonly string[] | undefined;
  /** Blobs up to this size go in one PUT. @default 16 MiB */
  monolithicMaxBytes?: number | undefined;
  /** PATCH size of larger blobs. @default 64 MiB */
  chunkSizeBytes?: number | undefined;
  /** Per layer, as each is done. */
  onLayer?: ((layer: PushedLayer) => void) | undefined;
  /** Bytes uploaded, as they go. */
  onBytes?: ((bytes: number) => void) | undefined;
  /** A chunk resumed from the registry's offset (or a session restarted at 0). */
  onResume?: ((offset: number) => void) | undefined;
}

/** One layer after the push. */
export interface PushedLayer {
  /** Its title. */
  title: string;
  /** Its descriptor. */
  descriptor: Descriptor;
  /** `uploaded`, `mounted`, or `present` (the repository had it). */
  status: "uploaded" | "mounted" | "present";
}

/** What {@linkcode pushPackage} did. */
export interface PushReport {
  /** The reference pushed, with the manifest digest. */
  reference: string;
  /** The manifest's digest. */
  digest: string;
  /** The layers, in manifest order. */
  layers: PushedLayer[];
  /** Layers uploaded. */
  uploaded: number;
  /** Layers mounted from another repository. */
  mounted: number;
  /** Layers the repository already held. */
  present: number;
  /** Bytes of the layers uploaded. */
  uploadedBytes: number;
}

async function fileSource(
  path: string,
  what: string,
): Promise<BlobSource & { mtime: number | undefined }> {
  const before = await Deno.stat(path);
  const hash = new HashStream();
  const file = await Deno.open(path);
  await file.readable.pipeThrough(hash).pipeTo(new WritableStream());
  const digest = await hash.digest;
  const after = await Deno.stat(path);
  if (after.size !== digest.size || after.mtime?.getTime() !== before.mtime?.getTime()) {
    throw new ConflictError(`File "${what}" changed while it was hashed`, { key: path });
  }
  return {
    digest: `sha256:${digest.sha256}`,
    size: digest.size,
    mtime: after.mtime?.getTime(),
    open: async (start) => {
      const f = await Deno.open(path);
      if (start > 0) await f.seek(start, Deno.SeekMode.Start);
      return f.readable;
    },
  };
}

async function ensureBlob(
  client: RegistryClient,
  repository: string,
  source: BlobSource,
  options: PushOptions,
): Promise<PushedLayer["status"]> {
  const present = await client.blobSize(repository, source.digest, [pushScope(repository)]);
  if (present === source.size) return "present";
  const upload: UploadOptions = {
    mountFrom: options.mountFrom,
    monolithicMaxBytes: options.monolithicMaxBytes,
    chunkSizeBytes: options.chunkSizeBytes,
    onBytes: options.onBytes,
    onResume: options.onResume,
    maxAttempts: options.retry?.maxAttempts,
  };
  return await uploadBlob(client, repository, source, upload);
}

/**
 * Pushes a package folder as stacpkg's artifact (tag `latest` when the
 * reference names none). The same package gives the same digests every
 * time; blobs the repository holds are not sent again.
 *
 * @example Pushing a package (network, not run)
 * ```ts ignore
 * import { pushPackage } from "./push.ts";
 * const report = await pushPackage("pkg", "oci://127.0.0.1:5000/team/pkg:v1", { plainHttp: true });
 * console.log(report.digest, report.uploaded, report.present);
 * ```
 *
 * @param dir The package folder (`items.parquet`, `assets.lock.parquet`, ...).
 * @param target `oci://host[:port]/repository[:tag]`, or its parts.
 * @param options Transport, auth, concurrency.
 * @returns What was pushed.
 * @throws {TypeError} When the folder is not a package, or the target names a digest.
 * @throws {SyntaxError} When the target is not a reference, or a file name is not a safe title.
 */
export async function pushPackage(
  dir: string,
  target: string | OciReference,
  options: PushOptions = {},
): Promise<PushReport> {
  const ref = typeof target === "string" ? parseReference(target) : target;
  if (ref.digest !== undefined) {
    throw new TypeError(`Invalid push target "${formatReference(ref)}": name a tag, not a digest`);
  }
  const tag = ref.tag!;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Invalid concurrency ${concurrency}: expected a positive integer`);
  }
  const planned = await planPackageLayers(dir);
  const client = await openRegistry(ref.registry, options);
  const temp = await Deno.makeTempDir({ prefix: "ferry-oci-push-" });
  try {
    const pushed: PushedLayer[] = new Array(planned.length);
    const task = async ([index, layer]: [number, PlannedLayer]) => {
      let path: string;
      if (layer.source.kind === "zip") {
        path = `${temp}/layer-${index}.zip`;
        await writeDeterministicZip(layer.source.files, path, temp);
      } else path = layer.source.path;
      const source = await fileSource(path, layer.title);
      const status = await ensureBlob(client, ref.repository, source, options);
      const result: PushedLayer = {
        title: layer.title,
        status,
        descriptor: {
          mediaType: layer.mediaType,
          digest: source.digest,
          size: source.size,
          annotations: { [TITLE_ANNOTATION]: layer.title },
        },
      };
      pushed[index] = result;
      options.onLayer?.(result);
      if (layer.source.kind === "zip") await Deno.remove(path).catch(() => {});
    };
    for await (
      const _ of pooledMap(concurrency, planned.entries(), task, { signal: options.signal })
    ) {
      // completion order; the manifest keeps the plan's order
    }
    const config: BlobSource = {
      digest: EMPTY_CONFIG_DESCRIPTOR.digest,
      size: EMPTY_CONFIG_BYTES.byteLength,
      open: () =>
        Promise.resolve(new Blob([EMPTY_CONFIG_BYTES as Uint8Array<ArrayBuffer>]).stream()),
    };
    await ensureBlob(client, ref.repository, config, { ...options, mountFrom: undefined });
    const manifest = packageManifestBytes(pushed.map((l) => l.descriptor));
    const digest = await client.putManifest(ref.repository, tag, manifest, OCI_MANIFEST_MEDIA_TYPE);
    const count = (status: PushedLayer["status"]) =>
      pushed.filter((l) => l.status === status).length;
    return {
      reference: formatReference({ ...ref, digest }),
      digest,
      layers: pushed,
      uploaded: count("uploaded"),
      mounted: count("mounted"),
      present: count("present"),
      uploadedBytes: pushed.filter((l) => l.status === "uploaded")
        .reduce((n, l) => n + l.descriptor.size, 0),
    };
  } finally {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
  }
}
