import { deepEqual, equal, match, ok } from "node:assert/strict";
import { runCli } from "./_cli.ts";

const dir = await Deno.makeTempDir({ prefix: "ferry-store-cli-" });
const cleanup = () => Deno.remove(dir, { recursive: true });

Deno.test("ferry store put, stat, cat and ls on files", async () => {
  const put = await runCli(["store", "put", `${dir}/a/hello world.txt`], "hello, ferry");
  equal(put.code, 0, put.stderr);
  equal(JSON.parse(put.stdout).size, 12);

  const stat = await runCli(["store", "stat", `file://${dir}/a/hello%20world.txt`]);
  equal(stat.code, 0, stat.stderr);
  const meta = JSON.parse(stat.stdout);
  equal(meta.size, 12);
  ok(typeof meta.etag === "string" && typeof meta.last_modified === "string");

  const cat = await runCli(["store", "cat", `${dir}/a/hello world.txt`, "--range", "7-11"]);
  equal(cat.stdout, "ferry");
  equal(
    (await runCli(["store", "cat", `${dir}/a/hello world.txt`, "--range", "-5"])).stdout,
    "ferry",
  );

  const ls = await runCli(["store", "ls", `${dir}/`, "--json"]);
  deepEqual(ls.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
    { prefix: `${dir.slice(1)}/a/`, href: `${dir}/a/` },
  ]);
  equal((await runCli(["store", "ls", dir])).stdout, "a/\n");
  const recursive = await runCli(["store", "ls", dir, "--recursive"]);
  equal(recursive.stdout, "a/hello world.txt\n");
  const one = await runCli(["store", "ls", `${dir}/a/hello world.txt`]);
  equal(one.stdout, "hello world.txt\n");
});

Deno.test("ferry store cp copies between stores and keeps the name for a trailing /", async () => {
  await runCli(["store", "put", `${dir}/src.bin`], new Uint8Array(100_000).fill(7));
  const cp = await runCli(["store", "cp", `${dir}/src.bin`, "memory://cli-test/copies/"]);
  equal(cp.code, 0, cp.stderr);
  equal(JSON.parse(cp.stdout).key, "copies/src.bin");
  const back = await runCli(["store", "cp", "memory://cli-test/copies/src.bin", `${dir}/back.bin`]);
  equal(back.code, 0, back.stderr);
  deepEqual(await Deno.readFile(`${dir}/back.bin`), new Uint8Array(100_000).fill(7));
});

Deno.test("ferry store rm deletes one key, or a prefix filtered by --regex", async () => {
  for (const name of ["x/1.tif", "x/2.tif", "x/3.json"]) {
    await runCli(["store", "put", `memory://rm-test/${name}`], name);
  }
  const rm = await runCli(["store", "rm", "memory://rm-test/x/", "--prefix", "--regex", "\\.tif$"]);
  equal(rm.code, 0, rm.stderr);
  deepEqual(JSON.parse(rm.stdout), { deleted: 2, errors: [] });
  const left = await runCli(["store", "ls", "memory://rm-test/x/"]);
  equal(left.stdout, "3.json\n");
  equal((await runCli(["store", "rm", "memory://rm-test/x/3.json"])).code, 0);
  equal((await runCli(["store", "ls", "memory://rm-test/x/"])).stdout, "");
});

Deno.test("ferry store: bad input gives one line, a non-zero exit and writes nothing", async () => {
  const missing = await runCli(["store", "stat", `${dir}/nope.txt`]);
  equal(missing.code, 3);
  match(missing.stderr, /^ferry store stat: Object not found: ".*nope\.txt"\n$/);

  const flag = await runCli(["store", "ls", dir, "--bogus"]);
  equal(flag.code, 2);
  match(flag.stderr, /Unknown flag "--bogus"/);

  const range = await runCli(["store", "cat", `${dir}/src.bin`, "--range", "9-3"]);
  equal(range.code, 2);
  match(range.stderr, /Invalid range "9-3": END is before START/);

  const scheme = await runCli(["store", "ls", "gopher://x/y"]);
  equal(scheme.code, 2);
  match(scheme.stderr, /Unknown store type "gopher"/);

  const noArg = await runCli(["store", "cp", `${dir}/src.bin`]);
  equal(noArg.code, 2);
  match(noArg.stderr, /Missing argument DST/);

  const unknown = await runCli(["store", "frobnicate"]);
  equal(unknown.code, 2);
  match(unknown.stderr, /unknown command "store frobnicate"/);
  const groupHelp = await runCli(["store", "--help"]);
  equal(groupHelp.code, 0);
  match(groupHelp.stdout, /ferry store cp SRC DST/);

  const badSource = await runCli(["store", "cp", `${dir}/does-not-exist`, `${dir}/never-written`]);
  equal(badSource.code, 3);
  equal((await runCli(["store", "stat", `${dir}/never-written`])).code, 3);
});

Deno.test("ferry store cleanup", cleanup);
