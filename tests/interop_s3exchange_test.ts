// deno-lint-ignore-file no-console
/**
 * ferry against the Python library s3exchange 0.1.x on the S3 test server
 * (Swift's s3api): s3exchange writes (objects, overwrite and append_parts
 * manifests, tar and tar.gz shards, a manifest writer with parts and shards)
 * and ferry reads it, byte for byte; ferry writes and s3exchange reads it.
 *
 * Runs only where s3exchange and boto3 import (set `S3EXCHANGE_PYTHONPATH`
 * to the folders to put on `PYTHONPATH`); otherwise it is skipped with the
 * reason printed, also under CI.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { liveEnv, uniqueName } from "./_live.ts";
import { runCli } from "./_cli.ts";
import { clearStoreCache, getBytes, listAll, openLocation } from "../lib/stores/mod.ts";
import { bucketEnvSuffix } from "../lib/stores/registry.ts";
import {
  appendRefs,
  compactManifest,
  createShards,
  getObject,
  iterObjects,
  listManifestFiles,
  ManifestWriter,
  putObject,
  readManifest,
  readManifestFile,
  readShardManifest,
  serializeEntry,
  writeManifest,
} from "../lib/exchange/mod.ts";

const PYTHON_PATH = Deno.env.get("S3EXCHANGE_PYTHONPATH") ?? Deno.env.get("PYTHONPATH") ?? "";

async function findPython(): Promise<string | undefined> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(python, {
        args: ["-c", "import s3exchange, boto3"],
        env: { PYTHONPATH: PYTHON_PATH },
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) return python;
    } catch {
      // not installed
    }
  }
  return undefined;
}

const python = await findPython();
if (!python) {
  console.warn(
    "skipping s3exchange interop tests: s3exchange and boto3 do not import (set S3EXCHANGE_PYTHONPATH to s3exchange's src folder)",
  );
}
const env = python
  ? liveEnv(
    ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const,
    "the S3 test server (Swift s3api)",
  )
  : undefined;

const PY = String.raw`
import hashlib, json, os, sys
import boto3, botocore.config
from s3exchange import S3ExchangeStore, Manifest, ShardSizePolicy

phase, cfg = sys.argv[1], json.load(open(sys.argv[2]))
s3 = boto3.client("s3", endpoint_url=cfg["endpoint"], region_name=cfg["region"],
    aws_access_key_id=cfg["key"], aws_secret_access_key=cfg["secret"],
    config=botocore.config.Config(s3={"addressing_style": "path"}))
store = S3ExchangeStore(s3, cfg["bucket"])
p = cfg["prefix"]
sha = lambda b: hashlib.sha256(b).hexdigest()
out = {}

if phase == "write":
    data = {}
    def put(key, body, **kw):
        data[key] = sha(body)
        return store.put_object(key, body, **kw)
    a = put(p + "/files/a.bin", b"alpha", meta={"sr": 16000.0, "big": 12345678901234567890, "name": "\u00e9\u2713", "x": 1e-7}, content_type="application/octet-stream")
    b = put(p + "/files/\u00fc b.bin", b"beta" * 1000, id="b-id")
    path = os.path.join(cfg["tmp"], "from-path.bin")
    open(path, "wb").write(b"from a path" * 100)
    c = store.put_object(p + "/files/c.bin", path)
    data[p + "/files/c.bin"] = sha(b"from a path" * 100)
    store.write_manifest(p + "/over/manifest.jsonl", [a, b, c], mode="overwrite")
    store.write_manifest(p + "/app/manifest.jsonl", [a], mode="append_parts")
    store.write_manifest(p + "/app/manifest.jsonl", [b, c], mode="append_parts")
    items = [{"source": (b"member-%d" % i) * (i + 1), "member_path": "m/%d.txt" % i, "id": str(i), "meta": {"i": i}} for i in range(5)]
    items.append({"source": path, "member_path": "m/path.bin", "id": "path"})
    gz = store.put_shard_archive(p + "/shards/shard-000001.tar.gz", items, compression="gzip")
    tar = store.put_shard_archive(p + "/shards/shard-000002.tar", items, compression=None)
    for shard in (gz, tar):
        for i in items:
            src = i["source"]
            data[shard.archive_key + "#" + i["member_path"]] = sha(src if isinstance(src, bytes) else open(src, "rb").read())
    store.put_sharded(p + "/sh/manifest.jsonl", [gz.entry, tar.entry], update_mode="append_parts")
    with store.open_manifest_writer(p + "/w/manifest.jsonl", part_max_entries=2, shard_size=ShardSizePolicy(max_entries=2), shard_compression="gzip") as w:
        for i in range(3):
            w.add_to_shard("x/%d.bin" % i, b"x%d" % i, id="x%d" % i)
        w.put_object(p + "/w/loose.bin", b"loose")
    data[p + "/w/loose.bin"] = sha(b"loose")
    data[p + "/w/shards/shard-000001.tar.gz#x/0.bin"] = sha(b"x0")
    data[p + "/w/shards/shard-000001.tar.gz#x/1.bin"] = sha(b"x1")
    data[p + "/w/shards/shard-000002.tar.gz#x/2.bin"] = sha(b"x2")
    # What s3exchange itself reads back must be what was put.
    for root in ("over", "app", "sh", "w"):
        for stream, e in store.iter_objects(p + "/" + root + "/manifest.jsonl"):
            assert data[e["key"]] == sha(stream.read()), e["key"]
    out["sha256"] = data

elif phase == "read":
    for key in cfg["manifests"]:
        m = store.get_manifest(key)
        out.setdefault("entries", {})[key] = [Manifest.serialize_entry(e) for e in m.iter_entries()]
        out.setdefault("unresolved", {})[key] = [Manifest.serialize_entry(e) for e in m.iter_entries(resolve_refs=False)]
        objs = {}
        for stream, e in store.iter_objects(key):
            objs[e["key"]] = sha(stream.read())
        out.setdefault("objects", {})[key] = objs
        out.setdefault("files", {})[key] = [e["key"] for e in store.list_manifest_files(key)]
        out.setdefault("prefix", {})[key] = [e["key"] for e in store.list_by_manifest_prefix(key, cfg["prefix_filter"])]
    out["virtual"] = {k: sha(store.get_object(k).read()) for k in cfg["virtual"]}
    out["shard_manifest"] = {k: [Manifest.serialize_entry(e) for e in store.get_manifest(k).iter_entries()] for k in cfg["shards"]}
    out["rewritten"] = {}
    for key in cfg["rewrite"]:
        entries = list(store.iter_manifest_entries(key, resolve_refs=False))
        store.write_manifest(key + ".py", entries, mode="overwrite")
        out["rewritten"][key] = key + ".py"
    out["compact"] = store.compact_manifest(cfg["compact"], cfg["compact"] + ".compact", expand_shards=True)
    out["delete"] = store.delete_manifest(cfg["delete"])

print(json.dumps(out))
`;

async function runPython(
  phase: string,
  config: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-s3x-" });
  try {
    await Deno.writeTextFile(`${dir}/s3x.py`, PY);
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...config, tmp: dir }));
    const out = await new Deno.Command(python!, {
      args: [`${dir}/s3x.py`, phase, `${dir}/config.json`],
      env: { PYTHONPATH: PYTHON_PATH },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`s3exchange ${phase} failed:\n${stderr.slice(-3000)}`);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function pythonConfig(bucket: string, prefix: string) {
  return {
    endpoint: env!.S3_ENDPOINT,
    region: Deno.env.get("S3_REGION") ?? "us-east-1",
    key: env!.S3_ACCESS_KEY_ID,
    secret: env!.S3_SECRET_ACCESS_KEY,
    bucket,
    prefix,
  };
}

function useS3(bucket: string) {
  Deno.env.set(`FERRY_S3_ENDPOINT_${bucketEnvSuffix(bucket)}`, env!.S3_ENDPOINT);
  Deno.env.set("AWS_ACCESS_KEY_ID", env!.S3_ACCESS_KEY_ID);
  Deno.env.set("AWS_SECRET_ACCESS_KEY", env!.S3_SECRET_ACCESS_KEY);
  Deno.env.set("AWS_REGION", Deno.env.get("S3_REGION") ?? "us-east-1");
  clearStoreCache();
  return openLocation(`s3://${bucket}/`).store;
}

const sha256 = async (stream: ReadableStream<Uint8Array>) => {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
};
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test({
  name:
    "s3exchange writes, ferry reads: entries byte for byte, objects, shard members, virtual keys",
  ignore: env === undefined,
  async fn() {
    const bucket = uniqueName("ferry-s3x");
    const store = useS3(bucket);
    await store.put("probe", new Blob(["x"]).stream(), { size: 1 }); // creates the bucket
    const p = "interop";
    const written = await runPython("write", pythonConfig(bucket, p)) as {
      sha256: Record<string, string>;
    };
    const roots = ["over", "app", "sh", "w"].map((n) => `${p}/${n}/manifest.jsonl`);
    const seen: Record<string, string> = {};
    for (const root of roots) {
      // Every manifest file (root and parts) re-serialises to its exact bytes.
      const files = new Set([root]);
      for await (const e of readManifest(store, root, { resolveRefs: false })) {
        if (e.kind === "manifest_ref") files.add(e.key);
      }
      for (const key of files) {
        const lines = [];
        for await (const e of readManifestFile(store, key)) lines.push(serializeEntry(e) + "\n");
        equal(lines.join("") || "\n", text(await getBytes(store, key)), key);
      }
      for await (const { entry, body } of iterObjects(store, root)) {
        seen[String(entry.key)] = await sha256(body);
      }
    }
    const differing = Object.keys({ ...seen, ...written.sha256 }).filter((k) =>
      seen[k] !== written.sha256[k]
    );
    deepEqual(differing.map((k) => [k, seen[k], written.sha256[k]]), []);
    const a = (await Array.fromAsync(readManifest(store, `${p}/over/manifest.jsonl`)))[0]!;
    equal(
      serializeEntry(a),
      `{"kind":"file","key":"${p}/files/a.bin","id":"a","meta":{"sr":16000.0,"big":12345678901234567890,"name":"\\u00e9\\u2713","x":1e-07},"content_type":"application/octet-stream","size_bytes":5,"etag":"${a.etag}"}`,
    );
    const members = await Array.fromAsync(listManifestFiles(store, `${p}/sh/manifest.jsonl`));
    equal(members.length, 12);
    for (
      const key of [
        `${p}/shards/shard-000002.tar#m/3.txt`,
        `${p}/shards/shard-000001.tar.gz#m/path.bin`,
      ]
    ) {
      equal(await sha256((await getObject(store, key)).body), written.sha256[key]);
    }
    equal(
      (await readShardManifest(store, {
        kind: "shard",
        archive_key: `${p}/shards/shard-000002.tar`,
      })).length,
      6,
    );
    const cli = await runCli([
      "manifest",
      "ls",
      `s3://${bucket}/${p}/w/manifest.jsonl`,
      "--expand-shards",
    ]);
    equal(cli.code, 0, cli.stderr);
    equal(cli.stdout.trim().split("\n").length, 4);
  },
});

Deno.test({
  name:
    "ferry writes, s3exchange reads: manifests, parts, shards, virtual keys, compaction, delete",
  ignore: env === undefined,
  async fn() {
    const bucket = uniqueName("ferry-s3x");
    const store = useS3(bucket);
    const p = "fromferry";
    const bytes = (s: string) => new TextEncoder().encode(s);
    const expected: Record<string, string> = {};
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    const dir = await Deno.makeTempDir({ prefix: "ferry-s3x-src-" });
    try {
      const a = await putObject(store, `${p}/files/a.bin`, bytes("alpha"), { meta: { sr: 16000 } });
      expected[a.key] = sha(bytes("alpha"));
      await Deno.writeFile(`${dir}/c.bin`, bytes("c".repeat(5000)));
      const c = await putObject(store, `${p}/files/ü c.bin`, `${dir}/c.bin`);
      expected[c.key] = sha(bytes("c".repeat(5000)));
      await writeManifest(store, `${p}/over/manifest.jsonl`, [a, c], { mode: "overwrite" });
      await writeManifest(store, `${p}/app/manifest.jsonl`, [a], { mode: "append_parts" });
      const writer = new ManifestWriter(store, `${p}/app/manifest.jsonl`, { partMaxEntries: 1 });
      await writer.add(c);
      const loose = await writer.putObject(`${p}/files/loose.bin`, bytes("loose"));
      expected[loose.key] = sha(bytes("loose"));
      const report = await writer.close();
      equal(report.root_update?.method, "lock"); // the s3api refuses conditional PUTs
      const items = [0, 1, 2].map((i) => ({
        source: bytes(`member ${i}`.repeat(i + 1)),
        member_path: `m/${i}.txt`,
        id: `${i}`,
      }));
      const shards = [
        ...await createShards(store, `${p}/shards`, items, { compression: null, maxEntries: 2 }),
        ...await createShards(store, `${p}/shards`, items, { compression: "gzip" }),
      ];
      for (const s of shards) {
        for (const m of await readShardManifest(store, s)) {
          const i = Number(String(m.member_path).match(/\d/)![0]);
          expected[m.key] = sha(items[i]!.source);
        }
      }
      await writeManifest(store, `${p}/sh/manifest.jsonl`, shards, { mode: "append_parts" });
      await appendRefs(store, `${p}/sh/manifest.jsonl`, [`${p}/over/manifest.jsonl`]);
      await writeManifest(store, `${p}/del/manifest.jsonl`, [a, loose], { mode: "append_parts" });
      const roots = ["over", "app", "sh"].map((n) => `${p}/${n}/manifest.jsonl`);
      const read = await runPython("read", {
        ...pythonConfig(bucket, p),
        manifests: roots,
        prefix_filter: `${p}/shards/shard-000001`,
        virtual: [
          `${p}/shards/shard-000001.tar#m/1.txt`,
          `${p}/shards/shard-000003.tar.gz#m/2.txt`,
        ],
        shards: [`${p}/shards/shard-000003.tar.gz`],
        rewrite: roots,
        compact: `${p}/sh/manifest.jsonl`,
        delete: `${p}/del/manifest.jsonl`,
      }) as Record<string, Record<string, unknown>>;
      for (const root of roots) {
        const ours = (await Array.fromAsync(readManifest(store, root))).map(serializeEntry);
        deepEqual(read.entries![root], ours, root);
        const objects = read.objects![root] as Record<string, string>;
        for (const [key, hash] of Object.entries(objects)) equal(hash, expected[key], key);
        const files = (await Array.fromAsync(listManifestFiles(store, root))).map((e) => e.key);
        deepEqual(read.files![root], files);
        // s3exchange writes the same bytes for the same entries.
        equal(text(await getBytes(store, `${root}.py`)), text(await getBytes(store, root)), root);
      }
      deepEqual(Object.keys(read.objects![`${p}/sh/manifest.jsonl`] as object).length, 8);
      deepEqual(read.prefix![`${p}/sh/manifest.jsonl`], [
        `${p}/shards/shard-000001.tar#m/0.txt`,
        `${p}/shards/shard-000001.tar#m/1.txt`,
      ]);
      for (const [key, hash] of Object.entries(read.virtual!)) equal(hash, expected[key], key);
      equal((read.shard_manifest![`${p}/shards/shard-000003.tar.gz`] as string[]).length, 3);
      deepEqual(read.compact, {
        total_entries: 5,
        removed_entries: 0,
        resolved_refs: 0,
        expanded_shards: 6,
      });
      const ours = await compactManifest(store, `${p}/sh/manifest.jsonl`, `${p}/sh/ferry.compact`, {
        expandShards: true,
      });
      // s3exchange counts no refs when it resolves them; ferry counts the ones it followed.
      deepEqual(ours, {
        total_entries: 5,
        removed_entries: 0,
        resolved_refs: 2,
        expanded_shards: 6,
      });
      equal(
        text(await getBytes(store, `${p}/sh/ferry.compact`)),
        text(await getBytes(store, `${p}/sh/manifest.jsonl.compact`)),
      );
      deepEqual(read.delete, {
        deleted_object_count: 2,
        deleted_archive_count: 0,
        deleted_manifest_count: 1,
        errors: {},
      });
      ok(
        !(await listAll(store, `${p}/files/`)).some((e) =>
          e.kind === "object" && e.key.endsWith("loose.bin")
        ),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
