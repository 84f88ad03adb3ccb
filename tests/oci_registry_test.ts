/**
 * Packages through the real CNCF distribution registry of
 * tests/services/ (htpasswd Basic auth): push → pull byte for byte, no blob
 * sent twice, deterministic digests, corrupted storage, unsafe titles,
 * both auth backends, mounts, resumed uploads and downloads, skopeo
 * reading what ferry pushed, and every bad input.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { liveEnv, uniqueName } from "./_live.ts";
import { runCli, withTempDir } from "./_cli.ts";
import { buildTestPackage, filesOf } from "./_oci_package.ts";
import { countingFetch, type FetchLog, newFetchLog } from "./_registry.ts";
import {
  ASSET_MEDIA_TYPE,
  type Descriptor,
  FILES_ZIP_MEDIA_TYPE,
  ITEMS_MEDIA_TYPE,
  openRegistry,
  packageManifestBytes,
  pullPackage,
  pushPackage,
  type RegistryClient,
  writeDeterministicZip,
} from "../lib/oci/mod.ts";
import { uploadBlob } from "../lib/oci/upload.ts";
import { ChecksumMismatchError } from "../lib/pipeline/hash_stream.ts";
import {
  ASSET_LOCK_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  TITLE_ANNOTATION,
} from "../lib/oci/media_types.ts";

const env = liveEnv(
  [
    "OCI_REGISTRY_HOST",
    "OCI_REGISTRY_USER",
    "OCI_REGISTRY_PASSWORD",
    "OCI_REGISTRY_STATE_DIR",
  ] as const,
  "the OCI registry (htpasswd)",
);
const ignore = env === undefined;
const HOST = env?.OCI_REGISTRY_HOST ?? "";
const CREDENTIALS = {
  username: env?.OCI_REGISTRY_USER ?? "",
  password: env?.OCI_REGISTRY_PASSWORD ?? "",
};
const MIB = 1024 * 1024;

function repo(base: string): string {
  return `ferry-test/${uniqueName(base)}`;
}

/** Runs `fn` with DOCKER_CONFIG pointing at a config holding the registry's credentials. */
async function withDockerConfig(dir: string, fn: () => Promise<void>): Promise<void> {
  await Deno.mkdir(`${dir}/docker`, { recursive: true });
  const auth = btoa(`${CREDENTIALS.username}:${CREDENTIALS.password}`);
  await Deno.writeTextFile(
    `${dir}/docker/config.json`,
    JSON.stringify({ auths: { [`http://${HOST}`]: { auth } } }),
  );
  const previous = Deno.env.get("DOCKER_CONFIG");
  Deno.env.set("DOCKER_CONFIG", `${dir}/docker`);
  try {
    await fn();
  } finally {
    if (previous === undefined) Deno.env.delete("DOCKER_CONFIG");
    else Deno.env.set("DOCKER_CONFIG", previous);
  }
}

function blobRequests(log: FetchLog): FetchLog["requests"] {
  return log.requests.filter((r) => r.path.includes("/blobs/uploads/"));
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function leftovers(parent: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(parent)) if (e.name.includes(".ferry-pull-")) out.push(e.name);
  return out;
}

const EXPECTED_LAYERS = [
  ["items.parquet", ITEMS_MEDIA_TYPE],
  ["assets.lock.parquet", ASSET_LOCK_MEDIA_TYPE],
  ["README.md", "text/markdown"],
  ...[1, 2, 3].flatMap((n) => [
    [`assets/scene-${n}/data.csv`, ASSET_MEDIA_TYPE],
    [`assets/scene-${n}/thumbnail.png`, ASSET_MEDIA_TYPE],
  ]),
  ["docs", FILES_ZIP_MEDIA_TYPE],
  ["unique.txt", "text/plain"],
];

Deno.test({
  name: "ferry push then ferry pull gives the package back byte for byte",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      await withDockerConfig(dir, async () => {
        const pkg = await buildTestPackage(`${dir}/pkg`);
        const repository = repo("roundtrip");
        const ref = `oci://${HOST}/${repository}:v1`;
        const pushed = await runCli(["push", pkg, ref, "--plain-http"]);
        equal(pushed.code, 0, pushed.stderr);
        const report = JSON.parse(pushed.stdout);
        equal(report.layers, EXPECTED_LAYERS.length);
        const inspected = await runCli(["inspect", ref, "--plain-http", "--format", "json"]);
        equal(inspected.code, 0, inspected.stderr);
        const info = JSON.parse(inspected.stdout);
        equal(info.digest, report.digest);
        equal(info.artifactType, "application/vnd.stacpkg.package.v1+json");
        deepEqual(
          info.files.map((f: { path: string; mediaType: string }) => [f.path, f.mediaType]),
          EXPECTED_LAYERS,
        );

        const pulled = await runCli(["pull", ref, "--plain-http", "--output-dir", `${dir}/out`]);
        equal(pulled.code, 0, pulled.stderr);
        deepEqual(await filesOf(`${dir}/out`), await filesOf(pkg));
        equal((await Deno.stat(`${dir}/out/docs/guides/run.sh`)).mode! & 0o777, 0o755);

        // By digest, into a folder that already holds another file (kept).
        await Deno.mkdir(`${dir}/out2`);
        await Deno.writeTextFile(`${dir}/out2/keep.txt`, "kept");
        const byDigest = await runCli([
          "pull",
          `oci://${HOST}/${repository}@${report.digest}`,
          "--plain-http",
          "--output-dir",
          `${dir}/out2`,
        ]);
        equal(byDigest.code, 0, byDigest.stderr);
        const expected = await filesOf(pkg);
        expected.set("keep.txt", new TextEncoder().encode("kept"));
        deepEqual(
          await filesOf(`${dir}/out2`),
          new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))),
        );
        deepEqual(await leftovers(dir), []);
      });
    });
  },
});

Deno.test({
  name: "pushPackage() a second time sends no blob, and gives the same digests",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const pkg = await buildTestPackage(`${dir}/pkg`);
      const ref = `oci://${HOST}/${repo("again")}:v1`;
      const first = newFetchLog();
      const one = await pushPackage(pkg, ref, {
        plainHttp: true,
        credentials: CREDENTIALS,
        fetch: countingFetch(first),
      });
      ok(blobRequests(first).length > 0);
      ok(first.uploadBytes > 0);
      const second = newFetchLog();
      const two = await pushPackage(pkg, ref, {
        plainHttp: true,
        credentials: CREDENTIALS,
        fetch: countingFetch(second),
      });
      deepEqual(blobRequests(second), []);
      equal(second.uploadBytes, 0);
      equal(two.present, two.layers.length);
      equal(two.uploaded, 0);
      // Only HEADs and the manifest PUT (after the 401 that asks for credentials).
      deepEqual(
        [...new Set(second.requests.filter((r) => r.status !== 401).map((r) => r.method))].sort(),
        ["HEAD", "PUT"],
      );
      equal(two.digest, one.digest);
      // Into another repository: the same digests (the ZIP is deterministic too).
      const three = await pushPackage(pkg, `oci://${HOST}/${repo("again-elsewhere")}`, {
        plainHttp: true,
        credentials: CREDENTIALS,
      });
      equal(three.digest, one.digest);
      deepEqual(three.layers.map((l) => l.descriptor), one.layers.map((l) => l.descriptor));
    });
  },
});

Deno.test({
  name: "ferry push --mount-from mounts the blobs another repository holds",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      await withDockerConfig(dir, async () => {
        const pkg = await buildTestPackage(`${dir}/pkg`);
        const source = repo("mount-source");
        equal((await runCli(["push", pkg, `oci://${HOST}/${source}`, "--plain-http"])).code, 0);
        const r = await runCli([
          "push",
          pkg,
          `oci://${HOST}/${repo("mount-target")}`,
          "--plain-http",
          "--mount-from",
          source,
        ]);
        equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout);
        equal(report.uploaded, 0);
        equal(report.mounted + report.present, report.layers);
        ok(report.mounted >= 9, r.stdout); // identical demo assets may already be present
      });
    });
  },
});

Deno.test({
  name: "ferry pull of a blob corrupted in the registry's storage fails and leaves nothing",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      await withDockerConfig(dir, async () => {
        const pkg = await buildTestPackage(`${dir}/pkg`);
        const ref = `oci://${HOST}/${repo("corrupt")}:v1`;
        const pushed = await runCli(["push", pkg, ref, "--plain-http"]);
        equal(pushed.code, 0, pushed.stderr);
        const digest = sha256(await Deno.readFile(`${pkg}/unique.txt`));
        const stored = `${env!.OCI_REGISTRY_STATE_DIR}/data/docker/registry/v2/blobs/sha256/${
          digest.slice(0, 2)
        }/${digest}/data`;
        const bytes = await Deno.readFile(stored);
        bytes[0] = bytes[0]! ^ 0xff; // same size, other bytes
        await Deno.writeFile(stored, bytes);

        const r = await runCli([
          "pull",
          ref,
          "--plain-http",
          "--output-dir",
          `${dir}/new/deep/out`,
        ]);
        equal(r.code, 1, r.stderr);
        await rejects(() => Deno.stat(`${dir}/new`), Deno.errors.NotFound); // folders it made are gone
        ok(r.stderr.includes("sha256 mismatch") && r.stderr.includes(digest), r.stderr);
        equal(r.stderr.trim().split("\n").length, 1);
        await rejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound);
        // An existing output folder is left as it was.
        await Deno.mkdir(`${dir}/existing`);
        await Deno.writeTextFile(`${dir}/existing/items.parquet`, "old");
        const again = await runCli([
          "pull",
          ref,
          "--plain-http",
          "--output-dir",
          `${dir}/existing`,
        ]);
        equal(again.code, 1);
        deepEqual([...(await filesOf(`${dir}/existing`)).keys()], ["items.parquet"]);
        equal(await Deno.readTextFile(`${dir}/existing/items.parquet`), "old");
        deepEqual(await leftovers(dir), []);
      });
    });
  },
});

/** Uploads small bytes as a blob and returns its descriptor. */
async function putBytes(
  client: RegistryClient,
  repository: string,
  bytes: Uint8Array,
  mediaType: string,
  title?: string,
): Promise<Descriptor> {
  const digest = `sha256:${sha256(bytes)}`;
  await uploadBlob(client, repository, {
    digest,
    size: bytes.byteLength,
    open: () => Promise.resolve(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()),
  });
  return {
    mediaType,
    digest,
    size: bytes.byteLength,
    annotations: title === undefined ? undefined : { [TITLE_ANNOTATION]: title },
  };
}

Deno.test({
  name: "pullPackage() refuses unsafe titles and ZIP entries before fetching or writing anything",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const repository = repo("unsafe");
      const client = await openRegistry(HOST, { plainHttp: true, credentials: CREDENTIALS });
      const text = (t: string) => new TextEncoder().encode(t);
      const items = await putBytes(
        client,
        repository,
        text("items"),
        ITEMS_MEDIA_TYPE,
        "items.parquet",
      );
      const lock = await putBytes(
        client,
        repository,
        text("lock"),
        ASSET_LOCK_MEDIA_TYPE,
        "assets.lock.parquet",
      );
      await putBytes(client, repository, text("{}"), "application/vnd.oci.empty.v1+json");
      const payload = await putBytes(client, repository, text("payload"), "text/plain");
      const cases: [string, Descriptor[], string][] = [];
      for (
        const title of [
          "../evil.txt",
          "/etc/evil",
          "a\\b.txt",
          "a//b.txt",
          "./a.txt",
          "a/../../b",
          "",
        ]
      ) {
        cases.push([`title ${JSON.stringify(title)}`, [items, lock, {
          ...payload,
          annotations: { [TITLE_ANNOTATION]: title },
        }], `"${title}"`]);
      }
      cases.push(["untitled unknown layer", [items, lock, {
        ...payload,
        mediaType: "application/x-unknown",
      }], "no org.opencontainers.image.title"]);
      cases.push(["no lock", [items], "has no assets.lock.parquet"]);
      await Deno.writeTextFile(`${dir}/payload.txt`, "payload");
      await writeDeterministicZip(
        [{ name: "../escape.txt", path: `${dir}/payload.txt`, mode: 0o100644 }],
        `${dir}/evil.zip`,
        dir,
      );
      const zip = await putBytes(
        client,
        repository,
        await Deno.readFile(`${dir}/evil.zip`),
        FILES_ZIP_MEDIA_TYPE,
        "docs",
      );
      cases.push(["ZIP entry ../escape.txt", [items, lock, zip], `"../escape.txt"`]);
      for (const [i, [what, layers, expected]] of cases.entries()) {
        const manifest = packageManifestBytes(layers);
        await client.putManifest(repository, `case-${i}`, manifest, OCI_MANIFEST_MEDIA_TYPE);
        const log = newFetchLog();
        await rejects(
          () =>
            pullPackage(`oci://${HOST}/${repository}:case-${i}`, `${dir}/out-${i}`, {
              plainHttp: true,
              credentials: CREDENTIALS,
              fetch: countingFetch(log),
            }),
          (e: Error) => e instanceof SyntaxError && e.message.includes(expected),
          what,
        );
        await rejects(() => Deno.stat(`${dir}/out-${i}`), Deno.errors.NotFound);
        if (what.startsWith("title") || what.startsWith("untitled")) {
          deepEqual(log.requests.filter((r) => r.path.includes("/blobs/")), [], what);
        }
      }
      // The CLI says it in one line and exits 2.
      await withDockerConfig(dir, async () => {
        const r = await runCli([
          "pull",
          `oci://${HOST}/${repository}:case-0`,
          "--plain-http",
          "--output-dir",
          `${dir}/cli`,
        ]);
        equal(r.code, 2, r.stderr);
        equal(
          r.stderr,
          `ferry pull: Unsafe layer 2 title in "oci://${HOST}/${repository}:case-0" "../evil.txt": it has a ".." part\n`,
        );
      });
      deepEqual(await leftovers(dir), []);
    });
  },
});

Deno.test({
  name:
    "htpasswd Basic auth: the basic backend sends credentials up front, the token backend answers the challenge",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const pkg = await buildTestPackage(`${dir}/pkg`);
      const ref = `oci://${HOST}/${repo("basic")}`;
      const basic = newFetchLog();
      await pushPackage(pkg, ref, {
        plainHttp: true,
        credentials: CREDENTIALS,
        authBackend: "basic",
        fetch: countingFetch(basic),
      });
      deepEqual(basic.requests.filter((r) => r.status === 401), []);
      const token = newFetchLog();
      await pullPackage(ref, `${dir}/out`, {
        plainHttp: true,
        credentials: CREDENTIALS,
        fetch: countingFetch(token),
      });
      equal(token.requests.filter((r) => r.status === 401).length, 1);
      deepEqual(await filesOf(`${dir}/out`), await filesOf(pkg));
      // stacpkg's ORAS_USER/ORAS_PASS are read when the Docker config has nothing.
      const oras = (name: string) =>
        ({ ORAS_USER: CREDENTIALS.username, ORAS_PASS: CREDENTIALS.password } as Record<
          string,
          string
        >)[name];
      await pullPackage(ref, `${dir}/out-oras`, {
        plainHttp: true,
        env: oras,
        authBackend: "basic",
      });
      // No credentials: refused, exit 4, nothing written.
      const previous = Deno.env.get("DOCKER_CONFIG");
      Deno.env.set("DOCKER_CONFIG", `${dir}/no-docker-config`);
      try {
        const r = await runCli(["pull", ref, "--plain-http", "--output-dir", `${dir}/anon`]);
        equal(r.code, 4, r.stderr);
        ok(r.stderr.includes("authentication required"), r.stderr);
        await rejects(() => Deno.stat(`${dir}/anon`), Deno.errors.NotFound);
      } finally {
        if (previous === undefined) Deno.env.delete("DOCKER_CONFIG");
        else Deno.env.set("DOCKER_CONFIG", previous);
      }
    });
  },
});

/** A transport that breaks chosen requests, around a counting one. */
function faultyFetch(
  log: FetchLog,
  fault: (
    url: URL,
    init: RequestInit,
    n: number,
  ) => "drop-before" | "drop-body" | "cut-response" | undefined,
): typeof fetch {
  const counting = countingFetch(log);
  let n = 0;
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const kind = fault(url, init, n++);
    if (kind === "drop-before") {
      log.requests.push({
        method: init.method ?? "GET",
        path: url.pathname,
        range: null,
        status: -1,
      });
      throw new TypeError("error sending request: connection reset (test)");
    }
    if (kind === "drop-body" && init.body instanceof ReadableStream) {
      let sent = 0;
      const reader = (init.body as ReadableStream<Uint8Array>).getReader();
      init = {
        ...init,
        body: new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent >= 512 * 1024) {
              controller.error(new TypeError("connection reset (test)"));
              await reader.cancel();
              return;
            }
            const next = await reader.read();
            if (next.done) controller.close();
            else {
              sent += next.value.byteLength;
              controller.enqueue(next.value);
            }
          },
        }),
      };
    }
    const response = await counting(input, init);
    if (kind === "cut-response" && response.body) {
      let passed = 0;
      const reader = response.body.getReader();
      const cut = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await reader.read();
          if (next.done) return controller.close();
          passed += next.value.byteLength;
          if (passed > MIB) {
            await reader.cancel();
            return controller.error(
              new TypeError("error reading a body from connection: connection reset (test)"),
            );
          }
          controller.enqueue(next.value);
        },
      });
      return new Response(cut, { status: response.status, headers: response.headers });
    }
    return response;
  };
}

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

Deno.test({
  name: "uploadBlob() resumes a dropped PATCH from the offset the registry reports",
  ignore,
  async fn() {
    const repository = repo("resume");
    const bytes = randomBytes(5 * MIB);
    const digest = `sha256:${sha256(bytes)}`;
    const log = newFetchLog();
    let patches = 0;
    const client = await openRegistry(HOST, {
      plainHttp: true,
      credentials: CREDENTIALS,
      fetch: faultyFetch(
        log,
        (_url, init) => (init.method === "PATCH" && ++patches === 3 ? "drop-before" : undefined),
      ),
    });
    const resumes: number[] = [];
    const outcome = await uploadBlob(client, repository, {
      digest,
      size: bytes.byteLength,
      open: (start) =>
        Promise.resolve(new Blob([bytes.subarray(start) as Uint8Array<ArrayBuffer>]).stream()),
    }, { monolithicMaxBytes: 0, chunkSizeBytes: MIB, onResume: (offset) => resumes.push(offset) });
    equal(outcome, "uploaded");
    deepEqual(resumes, [2 * MIB]); // the registry had two chunks
    equal(log.uploadBytes, 5 * MIB); // nothing sent twice
    ok(
      log.requests.some((r) =>
        r.method === "GET" && r.path.includes("/blobs/uploads/") && r.status === 204
      ),
    );
    equal(await client.blobSize(repository, digest), 5 * MIB);
  },
});

Deno.test({
  name:
    "uploadBlob() starts a new session when a PATCH broke mid-body and the registry dropped the session",
  ignore,
  async fn() {
    const repository = repo("restart");
    const bytes = randomBytes(5 * MIB);
    const digest = `sha256:${sha256(bytes)}`;
    const log = newFetchLog();
    let patches = 0;
    const client = await openRegistry(HOST, {
      plainHttp: true,
      credentials: CREDENTIALS,
      fetch: faultyFetch(
        log,
        (_url, init) => (init.method === "PATCH" && ++patches === 3 ? "drop-body" : undefined),
      ),
    });
    const resumes: number[] = [];
    await uploadBlob(client, repository, {
      digest,
      size: bytes.byteLength,
      open: (start) =>
        Promise.resolve(new Blob([bytes.subarray(start) as Uint8Array<ArrayBuffer>]).stream()),
    }, {
      monolithicMaxBytes: 0,
      chunkSizeBytes: 2 * MIB,
      onResume: (offset) => resumes.push(offset),
    });
    equal(resumes.length, 1);
    ok(resumes[0] === 0 || resumes[0] === 4 * MIB, String(resumes)); // distribution invalidates the session: 0
    equal(await client.blobSize(repository, digest), 5 * MIB);
    // The stored blob is the right one.
    const stored = new Uint8Array(
      await new Response(await client.getBlob(repository, digest)).arrayBuffer(),
    );
    equal(sha256(stored), digest.slice(7));
  },
});

Deno.test({
  name: "pullPackage() continues a blob whose download broke off with a Range request",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const pkg = await buildTestPackage(`${dir}/pkg`, 4 * MIB);
      const ref = `oci://${HOST}/${repo("range")}`;
      await pushPackage(pkg, ref, {
        plainHttp: true,
        credentials: CREDENTIALS,
        chunkSizeBytes: MIB,
        monolithicMaxBytes: MIB,
      });
      const big = `sha256:${sha256(await Deno.readFile(`${pkg}/assets/extra/big.bin`))}`;
      const log = newFetchLog();
      let cut = false;
      const resumes: number[] = [];
      await pullPackage(ref, `${dir}/out`, {
        plainHttp: true,
        credentials: CREDENTIALS,
        fetch: faultyFetch(log, (url) => {
          if (!cut && url.pathname.endsWith(big)) {
            cut = true;
            return "cut-response";
          }
        }),
        onResume: (offset) => resumes.push(offset),
      });
      equal(resumes.length, 1);
      ok(resumes[0]! > 0 && resumes[0]! < 4 * MIB, String(resumes));
      ok(
        log.requests.some((r) =>
          r.path.endsWith(big) && r.range === `bytes=${resumes[0]}-` && r.status === 206
        ),
      );
      deepEqual(await filesOf(`${dir}/out`), await filesOf(pkg));
    });
  },
});

Deno.test({
  name: "pullPackage() rejects a blob the registry serves with other bytes (ChecksumMismatchError)",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const pkg = await buildTestPackage(`${dir}/pkg`);
      const ref = `oci://${HOST}/${repo("swap")}`;
      await pushPackage(pkg, ref, { plainHttp: true, credentials: CREDENTIALS });
      const unique = `sha256:${sha256(await Deno.readFile(`${pkg}/unique.txt`))}`;
      const readme = `sha256:${sha256(await Deno.readFile(`${pkg}/README.md`))}`;
      // A registry answering the unique blob's GET with the README's bytes.
      const swapping: typeof fetch = (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        return fetch(
          url.endsWith(unique) && (init?.method ?? "GET") === "GET"
            ? url.replace(unique, readme)
            : input,
          init,
        );
      };
      await rejects(
        () =>
          pullPackage(ref, `${dir}/out`, {
            plainHttp: true,
            credentials: CREDENTIALS,
            fetch: swapping,
          }),
        ChecksumMismatchError,
      );
      await rejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound);
      deepEqual(await leftovers(dir), []);
    });
  },
});

Deno.test({
  name: "ferry push, pull and inspect refuse bad input in one line, non-zero, writing nothing",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      await withDockerConfig(dir, async () => {
        const pkg = await buildTestPackage(`${dir}/pkg`);
        await Deno.mkdir(`${dir}/not-a-package`);
        const good = `oci://${HOST}/${repo("bad-input")}`;
        const cases: [string[], number, string][] = [
          [
            ["push", `${dir}/not-a-package`, good, "--plain-http"],
            2,
            "is not a package: missing items.parquet, assets.lock.parquet",
          ],
          [["push", `${dir}/missing`, good, "--plain-http"], 2, "does not exist"],
          [
            ["push", pkg, `oci://${HOST}/Bad/Repo`, "--plain-http"],
            2,
            `repository part "Bad" must be lower-case`,
          ],
          [
            ["push", pkg, `${HOST}/repo`, "--plain-http"],
            2,
            `expected it to start with "oci://" (character 1)`,
          ],
          [["push", pkg, `oci://${HOST}/repo:bad:tag`, "--plain-http"], 2, "Invalid OCI reference"],
          [
            ["push", pkg, `${good}@sha256:${"0".repeat(64)}`, "--plain-http"],
            2,
            "name a tag, not a digest",
          ],
          [["push", pkg], 2, "Missing argument TARGET"],
          [["push", pkg, good, "--concurrency", "0"], 2, `Invalid --concurrency "0"`],
          [["pull", good, "--plain-http"], 2, "Missing --output-dir DIR"],
          [
            ["pull", good, "--plain-http", "--output-dir", `${dir}/o`, "--auth-backend", "oauth"],
            2,
            `Invalid --auth-backend "oauth"`,
          ],
          [
            ["pull", `${good}:nope`, "--plain-http", "--output-dir", `${dir}/o`],
            3,
            "MANIFEST_UNKNOWN",
          ],
          [
            ["pull", `${good}@sha256:abc`, "--plain-http", "--output-dir", `${dir}/o`],
            2,
            "is not sha256: + 64 lower-case hex digits",
          ],
          [["inspect", pkg, "--plain-http"], 2, "it applies to oci:// references only"],
          [["inspect", `${good}:nope`, "--plain-http"], 3, "MANIFEST_UNKNOWN"],
          [["pull", good, "--output-dir", `${dir}/o`, "--bogus"], 2, "bogus"],
        ];
        for (const [args, code, message] of cases) {
          const r = await runCli(args);
          equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
          ok(r.stderr.includes(message), `${args.join(" ")}: ${r.stderr}`);
          equal(r.stderr.trim().split("\n").length, 1, r.stderr);
          equal(r.stdout, "");
        }
        await rejects(() => Deno.stat(`${dir}/o`), Deno.errors.NotFound);
        deepEqual(await leftovers(dir), []);
        // Local inspect keeps working.
        const local = await runCli(["inspect", pkg, "--format", "json"]);
        equal(local.code, 0, local.stderr);
        equal(JSON.parse(local.stdout).items.count, 3);
      });
    });
  },
});

function skopeoAvailable(): boolean {
  try {
    return Deno.statSync("/usr/bin/skopeo").isFile;
  } catch {
    if (Deno.env.get("CI") === "true") {
      throw new Error("skopeo is not installed: apt-get install skopeo");
    }
    return false;
  }
}

Deno.test({
  name:
    "skopeo reads what ferry pushed: the manifest bytes, and blobs equal to the package's files",
  ignore: ignore || !skopeoAvailable(),
  async fn() {
    await withTempDir(async (dir) => {
      const pkg = await buildTestPackage(`${dir}/pkg`);
      const repository = repo("skopeo");
      const report = await pushPackage(pkg, `oci://${HOST}/${repository}:v1`, {
        plainHttp: true,
        credentials: CREDENTIALS,
      });
      const creds = `${CREDENTIALS.username}:${CREDENTIALS.password}`;
      const raw = await new Deno.Command("skopeo", {
        args: [
          "inspect",
          "--raw",
          `docker://${HOST}/${repository}:v1`,
          "--tls-verify=false",
          "--creds",
          creds,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(raw.code, 0, new TextDecoder().decode(raw.stderr));
      equal(`sha256:${sha256(raw.stdout)}`, report.digest);
      deepEqual(raw.stdout, packageManifestBytes(report.layers.map((l) => l.descriptor)));

      const copy = await new Deno.Command("skopeo", {
        args: [
          "copy",
          `docker://${HOST}/${repository}:v1`,
          `oci:${dir}/layout:v1`,
          "--src-tls-verify=false",
          "--src-creds",
          creds,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(copy.code, 0, new TextDecoder().decode(copy.stderr));
      const files = await filesOf(pkg);
      for (const layer of report.layers) {
        const blob = await Deno.readFile(
          `${dir}/layout/blobs/sha256/${layer.descriptor.digest.slice(7)}`,
        );
        equal(sha256(blob), layer.descriptor.digest.slice(7));
        if (layer.descriptor.mediaType !== FILES_ZIP_MEDIA_TYPE) {
          deepEqual(blob, files.get(layer.title), layer.title);
        }
      }
      // The docs ZIP holds the folder's files.
      const zipLayer = report.layers.find((l) => l.title === "docs")!;
      const names: string[] = [];
      const { readZipEntries } = await import("../lib/oci/zip.ts");
      for await (
        const e of readZipEntries(
          `${dir}/layout/blobs/sha256/${zipLayer.descriptor.digest.slice(7)}`,
        )
      ) {
        names.push(e.name);
      }
      deepEqual(names, ["docs/guides/run.sh", "docs/index.md"]);
    });
  },
});

Deno.test({
  name: "pushPackage() uploads a blob larger than a chunk in PATCHes and it pulls back intact",
  ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const pkg = await buildTestPackage(`${dir}/pkg`, 6 * MIB + 123);
      const ref = `oci://${HOST}/${repo("chunked")}`;
      const log = newFetchLog();
      await pushPackage(pkg, ref, {
        plainHttp: true,
        credentials: CREDENTIALS,
        chunkSizeBytes: 2 * MIB,
        monolithicMaxBytes: MIB,
        fetch: countingFetch(log),
      });
      equal(log.requests.filter((r) => r.method === "PATCH").length, 4);
      await pullPackage(ref, `${dir}/out`, {
        plainHttp: true,
        credentials: CREDENTIALS,
        concurrency: 1,
      });
      deepEqual(await filesOf(`${dir}/out`), await filesOf(pkg));
    });
  },
});
