// deno-lint-ignore-file no-console
/**
 * `ferry asset-lock validate` and `ferry asset-lock relocate` end to end,
 * in-process, against the live Swift (native and s3api) and local files.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import * as arrow from "apache-arrow";
import { type CliResult, runCli } from "./_cli.ts";
import { liveEnv, uniqueName } from "./_live.ts";
import {
  deriveLock,
  type LockRow,
  lockRowLocation,
  lockRowsFromIpc,
  readLockParquetRows,
  writeLockParquetFile,
} from "../lib/lock/mod.ts";
import { clearStoreCache, openLocation } from "../lib/stores/registry.ts";
import { bucketEnvSuffix } from "../lib/stores/registry.ts";
import { getBytes, headOrUndefined, putBytes, streamOf } from "../lib/stores/ext.ts";
import { formatHref } from "../lib/stores/location.ts";

const env = liveEnv(
  [
    "ST_AUTH",
    "ST_USER",
    "ST_KEY",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
  ] as const,
  "Swift (native and s3api)",
);

/** Files under `dir/src/`: `count` items with a `.tif` and a `.json` asset, and their lock. */
async function sourceLock(
  dir: string,
  count: number,
): Promise<{ lock: string; files: Map<string, Uint8Array> }> {
  const files = new Map<string, Uint8Array>();
  const items = [];
  await Deno.mkdir(`${dir}/src`, { recursive: true });
  for (let i = 0; i < count; i++) {
    const id = `item ${String(i).padStart(2, "0")}`;
    const assets: Record<string, { href: string }> = {};
    for (
      const [asset, ext, size] of [["B04", ".tif", 2000 + i], [
        "meta.json",
        ".json",
        50 + i,
      ]] as const
    ) {
      const path = `${dir}/src/${id.replace(" ", "-")}-${asset}${asset.endsWith(ext) ? "" : ext}`;
      const bytes = new Uint8Array(size).map((_, j) => (j * 7 + i) & 0xff);
      await Deno.writeFile(path, bytes);
      files.set(`${id}/${asset}`, bytes);
      assets[asset] = { href: path };
    }
    items.push({ id, assets });
  }
  const lock = `${dir}/lock0.parquet`;
  await writeLockParquetFile(deriveLock([items], { checksum: "sha256" }), lock);
  return { lock, files };
}

/**
 * `asset-lock relocate ARGS`, its new lock (Arrow IPC on stdout) written to
 * `path` by `asset-lock to-parquet` when it emitted one: what
 * `--destination-lock PATH` did before it became stacpkg's input.
 */
async function relocateTo(path: string, args: string[], stdin?: Uint8Array): Promise<CliResult> {
  const moved = await runCli(["asset-lock", "relocate", ...args], stdin);
  if (moved.stdoutBytes.length === 0) return moved;
  const written = await runCli(["asset-lock", "to-parquet", path], moved.stdoutBytes);
  equal(written.code, 0, written.stderr);
  return { ...moved, stdout: written.stdout };
}

/** Lock rows of an Arrow IPC stream. */
async function ipcLockRows(bytes: Uint8Array): Promise<LockRow[]> {
  const out: LockRow[] = [];
  for await (const rows of lockRowsFromIpc(streamOf(bytes))) out.push(...rows);
  return out;
}

function validLines(
  stdout: string,
): { valid: boolean; errors: string[]; item_id: string; asset_key: string }[] {
  return stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

async function expectValid(lock: string, deep: boolean, rows: number) {
  const r = await runCli(["asset-lock", "validate", lock, ...(deep ? ["--deep"] : [])]);
  const lines = validLines(r.stdout);
  equal(r.code, 0, r.stdout + r.stderr);
  equal(lines.length, rows);
  ok(lines.every((l) => l.valid));
}

function useS3(bucket: string) {
  Deno.env.set(`FERRY_S3_ENDPOINT_${bucketEnvSuffix(bucket)}`, env!.S3_ENDPOINT);
  Deno.env.set("AWS_ACCESS_KEY_ID", env!.S3_ACCESS_KEY_ID);
  Deno.env.set("AWS_SECRET_ACCESS_KEY", env!.S3_SECRET_ACCESS_KEY);
  Deno.env.set("AWS_REGION", Deno.env.get("S3_REGION") ?? "us-east-1");
  clearStoreCache();
}

Deno.test({
  name: "cli: asset-lock relocate file → Swift → S3 → file, every lock validates (--deep too)",
  ignore: env === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ferry-relocate-" });
    const container = uniqueName("ferry-reloc");
    const bucket = uniqueName("ferry-reloc-s3");
    useS3(bucket);
    try {
      const { lock, files } = await sourceLock(dir, 4);
      await expectValid(lock, true, 8);

      const toSwift = await relocateTo(`${dir}/lock1.parquet`, [
        lock,
        "--store-type",
        "swift",
        "--store-container",
        container,
        "--key",
        "pkg/",
        "--max-workers",
        "3",
      ]);
      equal(toSwift.code, 0, toSwift.stderr);
      deepEqual(JSON.parse(toSwift.stdout), { path: `${dir}/lock1.parquet`, rows: 8 });
      const lock1 = await readLockParquetRows(`${dir}/lock1.parquet`);
      deepEqual(lock1.map((r) => r.key).slice(0, 2), [
        "pkg/item_00/B04.tif",
        "pkg/item_00/meta.json",
      ]);
      ok(lock1.every((r) => r.store_type === "swift" && r.etag && r.last_modified && r.checksum));
      await expectValid(`${dir}/lock1.parquet`, true, 8);

      const toS3 = await relocateTo(`${dir}/lock2.parquet`, [
        "--asset-lock",
        `${dir}/lock1.parquet`,
        "--store-type",
        "s3",
        "--store-container",
        bucket,
        "--key",
        "x/",
        "--layout",
        "source-key",
      ]);
      equal(toS3.code, 0, toS3.stderr);
      const lock2 = await readLockParquetRows(`${dir}/lock2.parquet`);
      equal(lock2[0]!.key, "x/pkg/item_00/B04.tif");
      deepEqual(lock2.map((r) => r.checksum), lock1.map((r) => r.checksum));
      await expectValid(`${dir}/lock2.parquet`, true, 8);

      const back = await relocateTo(`${dir}/lock3.parquet`, [
        `${dir}/lock2.parquet`,
        "--store-type",
        "file",
        "--key",
        `${dir}/back/`,
      ]);
      equal(back.code, 0, back.stderr);
      const lock3 = await readLockParquetRows(`${dir}/lock3.parquet`);
      await expectValid(`${dir}/lock3.parquet`, true, 8);
      for (const row of lock3) {
        deepEqual(await Deno.readFile(row.key), files.get(`${row.item_id}/${row.asset_key}`));
      }

      // Arrow IPC on stdin, the other way in.
      const ipc = await runCli(["asset-lock", "from-parquet", `${dir}/lock3.parquet`]);
      const viaStdin = await runCli(["asset-lock", "validate", "--deep"], ipc.stdoutBytes);
      equal(viaStdin.code, 0, viaStdin.stderr);
      equal(validLines(viaStdin.stdout).length, 8);

      // A re-run skips every object and emits the same lock.
      const again = await relocateTo(`${dir}/lock1b.parquet`, [
        lock,
        "--store-type",
        "swift",
        "--store-container",
        container,
        "--key",
        "pkg/",
      ]);
      equal(again.code, 0, again.stderr);
      deepEqual(await readLockParquetRows(`${dir}/lock1b.parquet`), lock1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "cli: asset-lock validate on Swift reports a changed size, then same-size changed bytes",
  ignore: env === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ferry-validate-" });
    const container = uniqueName("ferry-valid");
    try {
      // 12 items in one folder: the source-key layout keeps them together, so a listing answers them.
      const { lock } = await sourceLock(dir, 6);
      const moved = await relocateTo(`${dir}/swift.parquet`, [
        lock,
        "--store-type",
        "swift",
        "--store-container",
        container,
        "--layout",
        "source-key",
      ]);
      equal(moved.code, 0, moved.stderr);
      const rows = await readLockParquetRows(`${dir}/swift.parquet`);
      await expectValid(`${dir}/swift.parquet`, false, 12);
      const target = rows.find((r) => r.item_id === "item 02" && r.asset_key === "B04")!;
      const { store, key } = openLocation(`swift://${container}/${target.key}`);
      const original = await getBytes(store, key);

      await putBytes(store, key, new Uint8Array(original.length + 1));
      const grown = await runCli(["asset-lock", "validate", `${dir}/swift.parquet`]);
      equal(grown.code, 1);
      const bad = validLines(grown.stdout).filter((l) => !l.valid);
      equal(bad.length, 1);
      equal(bad[0]!.item_id, "item 02");
      ok(
        bad[0]!.errors.includes(
          `size mismatch: expected ${original.length}, actual ${original.length + 1}`,
        ),
        bad[0]!.errors.join(),
      );

      const flipped = original.slice();
      flipped[0] = flipped[0]! ^ 0xff;
      await putBytes(store, key, flipped);
      const same = await runCli(["asset-lock", "validate", `${dir}/swift.parquet`, "--deep"]);
      equal(same.code, 1);
      const [line] = validLines(same.stdout).filter((l) => !l.valid);
      ok(line!.errors.some((e) => e.startsWith("etag mismatch: ")), line!.errors.join());
      ok(
        line!.errors.some((e) =>
          e.startsWith(`checksum mismatch: expected ${target.checksum}, actual 1220`)
        ),
        line!.errors.join(),
      );
      ok(!line!.errors.some((e) => e.startsWith("size")));

      // Filters: only the other rows → valid.
      const others = await runCli([
        "asset-lock",
        "validate",
        `${dir}/swift.parquet`,
        "--item-ids",
        "item 00",
        "--item-ids",
        "item 01",
        "--asset-keys",
        "B04",
      ]);
      equal(others.code, 0, others.stdout);
      equal(validLines(others.stdout).length, 2);

      // A missing object is "not found".
      await store.delete(key);
      const gone = await runCli(["asset-lock", "validate", `${dir}/swift.parquet`, "--keep-going"]);
      equal(gone.code, 1);
      deepEqual(validLines(gone.stdout).filter((l) => !l.valid)[0]!.errors, ["not found"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("cli: asset-lock relocate moves a 200 MiB object within a 4 MiB memory limit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-relocate-big-" });
  try {
    const size = 200 * 1024 * 1024;
    const piece = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
    const hash = createHash("sha256");
    const file = await Deno.open(`${dir}/big.bin`, { write: true, create: true });
    for (let at = 0; at < size; at += piece.length) {
      piece[0] = at / piece.length;
      hash.update(piece);
      for (let n = 0; n < piece.length;) n += await file.write(piece.subarray(n));
    }
    file.close();
    const checksum = "1220" + hash.digest("hex");
    const row: LockRow = {
      item_id: "big",
      asset_key: "data",
      store_type: "file",
      store_container: null,
      store_endpoint_url: null,
      key: `${dir}/big.bin`,
      size_bytes: size,
      etag: null,
      last_modified: null,
      checksum,
    };
    await writeLockParquetFile([[row]], `${dir}/lock.parquet`);
    const r = await relocateTo(`${dir}/new.parquet`, [
      `${dir}/lock.parquet`,
      "--store-type",
      "file",
      "--key",
      `${dir}/out/`,
      "--memory-limit-bytes",
      "4MiB",
      "--chunk-size-bytes",
      "1MiB",
    ]);
    equal(r.code, 0, r.stderr);
    const [moved] = await readLockParquetRows(`${dir}/new.parquet`);
    equal(moved!.key, `${dir}/out/big/data.bin`);
    equal(moved!.size_bytes, size);
    equal(moved!.checksum, checksum);
    equal((await Deno.stat(moved!.key)).size, size);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: asset-lock relocate --dry-run writes nothing; --source-prefix moves only its rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-relocate-dry-" });
  try {
    const { lock } = await sourceLock(dir, 3);
    // The dry run emits the destination lock (IPC on stdout), nothing else.
    const dry = await runCli([
      "asset-lock",
      "relocate",
      lock,
      "--store-type",
      "file",
      "--key",
      `${dir}/out/`,
      "--dry-run",
    ]);
    equal(dry.code, 0, dry.stderr);
    const plans = await ipcLockRows(dry.stdoutBytes);
    equal(plans.length, 6);
    equal(formatHref(lockRowLocation(plans[0]!)), `file://${dir}/out/item_00/B04.tif`);
    ok(plans.every((r) => r.etag === null && r.last_modified === null && r.size_bytes !== null));
    equal(
      await headOrUndefined(openLocation(`${dir}/x`).store, `${dir.slice(1)}/new.parquet`),
      undefined,
    );
    await Deno.stat(`${dir}/out`).then(() => ok(false, "out/ was created"), () => {});

    const partial = await relocateTo(`${dir}/new.parquet`, [
      lock,
      "--store-type",
      "file",
      "--key",
      `${dir}/out/`,
      "--source-prefix",
      `${dir}/src/item-01-B04.tif`,
    ]);
    equal(partial.code, 0, partial.stderr);
    const rows = await readLockParquetRows(`${dir}/new.parquet`);
    const old = await readLockParquetRows(lock);
    deepEqual(rows.map((r, i) => r.key === old[i]!.key), [true, true, false, true, true, true]);
    // A prefix is a path, matched at a `/` as stacpkg does: a file-name prefix takes nothing.
    const namePrefix = await runCli([
      "asset-lock",
      "relocate",
      lock,
      "--store-type",
      "file",
      "--key",
      `${dir}/out/`,
      "--source-prefix",
      `${dir}/src/item-01`,
      "--dry-run",
    ]);
    equal(namePrefix.code, 0, namePrefix.stderr);
    match(namePrefix.stderr, /dry run: 0 of 6 row\(s\) would be copied/);
    deepEqual(rows[2]!.key, `${dir}/out/item_01/B04.tif`);
    deepEqual([...Deno.readDirSync(`${dir}/out`)].map((e) => e.name), ["item_01"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: asset-lock validate/relocate bad input is a one-line error, non-zero exit, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-relocate-bad-" });
  try {
    const { lock } = await sourceLock(dir, 1);
    const noColumns = arrow.tableToIPC(
      arrow.tableFromArrays({ item_id: ["a"] }),
      "stream",
    );
    const base = [
      "--store-type",
      "file",
      "--key",
      `${dir}/out/`,
    ];
    const cases: [string[], Uint8Array | undefined, RegExp][] = [
      [
        ["asset-lock", "validate", `${dir}/missing.parquet`],
        undefined,
        /missing\.parquet.*no such file/,
      ],
      [
        ["asset-lock", "relocate", `${dir}/missing.parquet`, ...base],
        undefined,
        /missing\.parquet/,
      ],
      [["asset-lock", "validate"], noColumns, /missing column\(s\) asset_key, store_type, key/],
      [["asset-lock", "relocate", ...base], noColumns, /missing column\(s\) asset_key/],
      [
        ["asset-lock", "relocate", lock, ...base, "--layout", "flat"],
        undefined,
        /Invalid --layout "flat"/,
      ],
      [
        [
          "asset-lock",
          "relocate",
          lock,
          ...base,
          "--memory-limit-bytes",
          "1MiB",
          "--chunk-size-bytes",
          "8MiB",
        ],
        undefined,
        /--memory-limit-bytes/,
      ],
      [["asset-lock", "relocate", lock, "--key", "x/"], undefined, /Missing --store-type/],
      [
        ["asset-lock", "relocate", lock, "--store-type", "s3"],
        undefined,
        /Missing --store-container/,
      ],
      [
        ["asset-lock", "validate", lock, "--max-workers", "0"],
        undefined,
        /Invalid --max-workers "0"/,
      ],
    ];
    for (const [args, stdin, pattern] of cases) {
      const r = await runCli(args, stdin);
      ok(r.code !== 0, args.join(" "));
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      ok(pattern.test(r.stderr), `${args.join(" ")}: ${r.stderr}`);
      equal(r.stdout, "");
      await Deno.stat(`${dir}/new.parquet`).then(() => ok(false, "lock written"), () => {});
      await Deno.stat(`${dir}/out`).then(() => ok(false, "objects written"), () => {});
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

if (env === undefined) console.warn("live relocate tests skipped");

Deno.test("cli: asset-lock relocate of a changed source writes nothing for it; --keep-going moves the rest, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-relocate-tampered-" });
  try {
    const { lock } = await sourceLock(dir, 2);
    const old = await readLockParquetRows(lock);
    const changed = await Deno.readFile(old[0]!.key);
    changed[0] = changed[0]! ^ 1;
    await Deno.writeFile(old[0]!.key, changed); // same size, different bytes
    const args = [
      "asset-lock",
      "relocate",
      lock,
      "--store-type",
      "file",
      "--key",
      `${dir}/out/`,
      "--max-workers",
      "1",
    ];
    const stopped = await relocateTo(`${dir}/new.parquet`, args.slice(2));
    equal(stopped.code, 1);
    equal(stopped.stdout, "");
    ok(
      /Cannot relocate item "item 00" asset "B04": .*sha256/i.test(stopped.stderr),
      stopped.stderr,
    );
    await Deno.stat(`${dir}/new.parquet`).then(() => ok(false, "lock written"), () => {});
    await Deno.stat(`${dir}/out/item_00/B04.tif`).then(
      () => ok(false, "bad object written"),
      () => {},
    );

    const going = await relocateTo(`${dir}/new.parquet`, [...args.slice(2), "--keep-going"]);
    equal(going.code, 1);
    ok(going.stderr.includes(`item "item 00" asset "B04"`), going.stderr);
    const rows = await readLockParquetRows(`${dir}/new.parquet`);
    deepEqual(rows[0], old[0]);
    deepEqual(rows.slice(1).map((r) => r.key.startsWith(`${dir}/out/`)), [true, true, true]);
    await Deno.stat(`${dir}/out/item_00/B04.tif`).then(
      () => ok(false, "bad object written"),
      () => {},
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
