/**
 * Interop with python-swiftclient's `swift` CLI against the live Swift on
 * :8080: objects ferry writes (plain and SLO) download byte-identical with
 * `swift download`, and `swift upload` objects (plain and SLO) read
 * identically with ferry.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { liveEnv, uniqueName } from "./_live.ts";
import { patternStream, sha256Of } from "./store_conformance.ts";
import { listAll, readAll } from "../lib/stores/ext.ts";
import { NotFoundError } from "../lib/stores/errors.ts";
import { SwiftObjectStore } from "../lib/stores/swift/mod.ts";

const env = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"], "Swift (:8080)");
const MIB = 1024 * 1024;
const container = uniqueName("ferry-interop");
const options = { sanitizeOps: false, sanitizeResources: false, ignore: !env };

async function swift(...args: string[]): Promise<string> {
  const command = new Deno.Command("swift", {
    args: ["-A", env!.ST_AUTH, "-U", env!.ST_USER, "-K", env!.ST_KEY, ...args],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  const err = new TextDecoder().decode(stderr);
  equal(code, 0, `swift ${args.join(" ")} failed: ${err.replaceAll(env!.ST_KEY, "REDACTED")}`);
  return new TextDecoder().decode(stdout);
}

function store(segmentSizeBytes?: number) {
  return new SwiftObjectStore({
    container,
    auth: { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY },
    segmentSizeBytes,
  });
}

Deno.test({
  name: "swift download reads what ferry wrote, plain and SLO, byte-identical",
  ...options,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const cases = [
        ["ferry/plain ü.bin", 300_000, undefined],
        ["ferry/slo.bin", Math.round(3.5 * MIB), MIB],
      ] as const;
      for (const [key, size, segment] of cases) {
        await store(segment).put(key, patternStream(size, 11), { size });
        await swift("download", container, key, "-o", `${dir}/out.bin`);
        const [expected] = await sha256Of(patternStream(size, 11));
        const file = await Deno.open(`${dir}/out.bin`);
        deepEqual(await sha256Of(file.readable), [expected, size], key);
      }
      // swift sees ferry's SLO as a manifest with its segments in <container>_segments
      const stat = await swift("stat", container, "ferry/slo.bin");
      match(stat, /X-Static-Large-Object: True/);
      const listed = await swift("list", `${container}_segments`, "--prefix", "ferry/slo.bin/slo/");
      equal(listed.trim().split("\n").length, 4);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "ferry reads what swift upload wrote, plain and SLO, byte-identical",
  ...options,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const size = Math.round(2.5 * MIB);
      const bytes = await readAll(patternStream(size, 5));
      await Deno.writeFile(`${dir}/in.bin`, bytes);
      await swift("upload", container, `${dir}/in.bin`, "--object-name", "swiftclient/plain.bin");
      await swift(
        "upload",
        container,
        `${dir}/in.bin`,
        "--object-name",
        "swiftclient/slo.bin",
        "--use-slo",
        "--segment-size",
        String(MIB),
      );
      const [expected] = await sha256Of(patternStream(size, 5));
      const s = store();
      for (const key of ["swiftclient/plain.bin", "swiftclient/slo.bin"]) {
        equal((await s.head(key)).size, size);
        deepEqual(await sha256Of(await s.get(key)), [expected, size], key);
        const tail = await readAll(await s.get(key, { range: { suffix: 1000 } }));
        deepEqual(tail, bytes.subarray(size - 1000));
      }
      // deleting swiftclient's SLO with ferry removes its segments too
      await s.delete("swiftclient/slo.bin");
      const segments = new SwiftObjectStore({
        container: `${container}_segments`,
        auth: { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY },
      });
      const left = (await listAll(segments, "swiftclient/slo.bin/")).length;
      equal(left, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "swift interop test cleanup",
  ...options,
  async fn() {
    for (const c of [container, `${container}_segments`]) {
      const s = new SwiftObjectStore({
        container: c,
        auth: { authUrl: env!.ST_AUTH, user: env!.ST_USER, key: env!.ST_KEY },
      });
      try {
        const keys = (await listAll(s, "")).flatMap((e) => e.kind === "object" ? [e.key] : []);
        deepEqual(await s.deleteMany(keys), []);
      } catch (error) {
        ok(error instanceof NotFoundError, String(error));
      }
      const r = await s.client.request({ method: "DELETE", container: c });
      await r.body?.cancel();
    }
  },
});
