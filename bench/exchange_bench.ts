/**
 * Shard benchmark (issue 13): 10,000 files of 4-64 KiB packed into tar.gz
 * shards of 1,000 on Swift, by `ferry shard create` and by GNU tar + gzip +
 * `swift upload`; then read back by `ferry manifest get` and by
 * `swift download` + `tar -x`. One process per run; wall time and peak RSS
 * (`/usr/bin/time -f %M`, the largest process of the run).
 *
 * `deno run -A bench/exchange_bench.ts [--files N] [--runs N]` (needs the
 * Swift of tests/services/start.sh in the environment, `swift`, `tar`,
 * `gzip`, `/usr/bin/time`):
 *
 * - data: N files (default 10,000) of 4-64 KiB under
 *   `bench/data/exchange/src` (gitignored; kept between runs): half random
 *   bytes, half text-like (compressible), as datasets of small files mix;
 * - ferry: one `shard create --gzip --max-entries 1000` from a sources list
 *   (default pipeline: 4 shards at a time, 256 MiB memory limit); every
 *   member's bytes checked (size) and every archive hashed in flight.
 *   Back: `manifest get --output-dir` (4 archives at a time, each read once,
 *   all staged, then moved into place).
 * - GNU: `tar -cf - -T list | gzip` per shard, in sequence, then
 *   `swift upload` of the 10 archives (swiftclient: 10 threads). Back:
 *   `swift download` of the container, then `tar -xzf` of each archive.
 *
 * Prints a Markdown section for bench/RESULTS.md: seconds, ratio (GNU time /
 * ferry time: above 1 means ferry is faster), peak RSS.
 *
 * @module
 */
// deno-lint-ignore-file no-console
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const KIB = 1024;

interface Measured {
  seconds: number;
  maxRssMiB: number;
}

async function measure(script: string): Promise<Measured> {
  const start = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", "bash", "-c", script],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code !== 0) throw new Error(`${script} exited ${out.code}:\n${stderr.slice(-2000)}`);
  const rss = Number(stderr.split("\n").at(-1));
  return { seconds, maxRssMiB: rss / 1024 };
}

async function run(script: string): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (out.code !== 0) {
    throw new Error(`${script}: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
}

/** Deterministic file contents: random bytes for even files, word-like text for odd ones. */
function contents(index: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let state = (index * 2654435761) >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  if (index % 2 === 0) {
    for (let i = 0; i < size; i += 4) {
      const v = next();
      out[i] = v & 0xff;
      if (i + 1 < size) out[i + 1] = (v >>> 8) & 0xff;
      if (i + 2 < size) out[i + 2] = (v >>> 16) & 0xff;
      if (i + 3 < size) out[i + 3] = v >>> 24;
    }
    return out;
  }
  const words = ["lorem", "ipsum", "ferry", "shard", "tar", "swift", "manifest", "object", "\n"];
  let at = 0;
  while (at < size) {
    const word = words[next() % words.length]! + " ";
    for (let i = 0; i < word.length && at < size; i++) out[at++] = word.charCodeAt(i);
  }
  return out;
}

async function makeData(dir: string, files: number): Promise<number> {
  let total = 0;
  const marker = `${dir}/.complete-${files}`;
  const sizes = Array.from({ length: files }, (_, i) => 4 * KIB + ((i * 7919) % (60 * KIB + 1)));
  total = sizes.reduce((a, b) => a + b, 0);
  try {
    await Deno.stat(marker);
    return total;
  } catch {
    // build it
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  for (let i = 0; i < files; i++) {
    const sub = `${dir}/src/d${String(Math.floor(i / 500)).padStart(3, "0")}`;
    if (i % 500 === 0) await Deno.mkdir(sub, { recursive: true });
    await Deno.writeFile(`${sub}/f${String(i).padStart(6, "0")}.bin`, contents(i, sizes[i]!));
  }
  await Deno.writeTextFile(marker, "");
  return total;
}

async function main(): Promise<void> {
  if (!Deno.env.get("ST_AUTH")) {
    throw new Error('ST_AUTH unset: eval "$(tests/services/start.sh)" first');
  }
  const arg = (name: string, fallback: number) => {
    const at = Deno.args.indexOf(name);
    return at === -1 ? fallback : Number(Deno.args[at + 1]);
  };
  const files = arg("--files", 10_000);
  const runs = arg("--runs", 1);
  const perShard = 1000;
  const data = `${ROOT}/bench/data/exchange`;
  const total = await makeData(data, files);
  const rel: string[] = [];
  for (let i = 0; i < files; i++) {
    rel.push(`d${String(Math.floor(i / 500)).padStart(3, "0")}/f${String(i).padStart(6, "0")}.bin`);
  }
  await Deno.writeTextFile(
    `${data}/sources.ndjson`,
    rel.map((r) => JSON.stringify({ source: `${data}/src/${r}`, member_path: r })).join("\n") +
      "\n",
  );
  for (let s = 0; s * perShard < files; s++) {
    await Deno.writeTextFile(
      `${data}/list-${s}.txt`,
      rel.slice(s * perShard, (s + 1) * perShard).join("\n") + "\n",
    );
  }
  const shards = Math.ceil(files / perShard);
  const results: { ferryUp: Measured; gnuUp: Measured; ferryDown: Measured; gnuDown: Measured }[] =
    [];
  for (let r = 0; r < runs; r++) {
    const tag = `${Date.now().toString(36)}-${r}`;
    const c1 = `ferry-xbench-${tag}`;
    const c2 = `gnu-xbench-${tag}`;
    const work = `${data}/run-${tag}`;
    await Deno.mkdir(`${work}/gnu-tmp`, { recursive: true });
    try {
      const ferryUp = await measure(
        `deno run -A --v8-flags=--expose-gc cli.ts shard create --manifest swift://${c1}/bench/manifest.jsonl --prefix swift://${c1}/bench/shards --max-entries ${perShard} --gzip < ${data}/sources.ndjson`,
      );
      const gnuUp = await measure(
        `set -e; for s in $(seq 0 ${
          shards - 1
        }); do tar -cf - -C ${data}/src -T ${data}/list-$s.txt | gzip > ${work}/gnu-tmp/shard-$(printf %06d $((s+1))).tar.gz; done; cd ${work}/gnu-tmp && swift upload -q ${c2} .`,
      );
      const ferryDown = await measure(
        `deno run -A --v8-flags=--expose-gc cli.ts manifest get swift://${c1}/bench/manifest.jsonl --output-dir ${work}/ferry-out`,
      );
      const gnuDown = await measure(
        `set -e; mkdir -p ${work}/gnu-dl ${work}/gnu-out; swift download -q ${c2} -D ${work}/gnu-dl; for f in ${work}/gnu-dl/*.tar.gz; do tar -xzf $f -C ${work}/gnu-out; done`,
      );
      await run(`diff -rq ${work}/ferry-out ${data}/src && diff -rq ${work}/gnu-out ${data}/src`);
      results.push({ ferryUp, gnuUp, ferryDown, gnuDown });
    } finally {
      await run(
        `swift delete -q ${c1} >/dev/null 2>&1 || true; swift delete -q ${c2} >/dev/null 2>&1 || true`,
      );
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  }
  const best = (pick: (x: typeof results[number]) => Measured) =>
    results.map(pick).reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rows = [
    [
      "pack + upload (tar.gz shards of 1,000)",
      best((x) => x.ferryUp),
      best((x) => x.gnuUp),
      "GNU tar + gzip + swift upload",
    ],
    [
      "download + extract",
      best((x) => x.ferryDown),
      best((x) => x.gnuDown),
      "swift download + tar -x",
    ],
  ] as const;
  console.log(
    `### Shards: ${files} files (${
      (total / 2 ** 20).toFixed(0)
    } MiB, 4-64 KiB) → ${shards} tar.gz shards on Swift (best of ${runs})\n`,
  );
  console.log(
    "| step | ferry s | ferry peak RSS MiB | GNU s | GNU peak RSS MiB | ratio (GNU s / ferry s) | GNU side |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const [step, ferry, gnu, what] of rows) {
    console.log(
      `| ${step} | ${ferry.seconds.toFixed(2)} | ${ferry.maxRssMiB.toFixed(0)} | ${
        gnu.seconds.toFixed(2)
      } | ${gnu.maxRssMiB.toFixed(0)} | ${(gnu.seconds / ferry.seconds).toFixed(2)}× | ${what} |`,
    );
  }
}

if (import.meta.main) await main();
