/**
 * One appender process of the concurrency test: `deno run -A
 * tests/_append_worker.ts URL COUNT NAME` appends COUNT parts of one entry
 * each (`NAME/0` …) to the manifest at URL, one after another.
 */
import { openLocation } from "../lib/stores/mod.ts";
import { writeManifest } from "../lib/exchange/mod.ts";

const [url, count, name] = Deno.args;
const { store, key } = openLocation(url!);
for (let i = 0; i < Number(count); i++) {
  await writeManifest(store, key, [{ kind: "file", key: `${name}/${i}` }], {
    mode: "append_parts",
  });
}
