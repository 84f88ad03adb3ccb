// deno-lint-ignore-file no-console
/**
 * A zarr v3 array in OpenStack Swift, written and read with zarrita through
 * ferry's `SwiftStore`. Runs against the local test server:
 *
 * ```sh
 * eval "$(tests/services/start.sh)"
 * deno run --allow-net=127.0.0.1:8080 \
 *   --allow-env=ST_AUTH,ST_USER,ST_KEY,OS_STORAGE_URL,OS_AUTH_TOKEN \
 *   examples/zarr_swift.ts [CONTAINER]
 * ```
 *
 * Credentials come from `ST_AUTH`/`ST_USER`/`ST_KEY` (TempAuth) or
 * `OS_STORAGE_URL`/`OS_AUTH_TOKEN` (a pre-authenticated token).
 */
import * as zarr from "zarrita";
import { SwiftStore } from "../lib/zarr/mod.ts";

const container = Deno.args[0] ?? "ferry-zarr-example";
const store = await SwiftStore.open({ container, prefix: "demo/temperature.zarr" });
console.log(`opened ${store}`);

// A group with attributes, and a float32 array of 3 x 24 x 36, zstd-compressed.
const group = await zarr.create(zarr.root(store), { attributes: { title: "ferry zarr demo" } });
const temps = await zarr.create(group.resolve("t2m"), {
  shape: [3, 24, 36],
  chunkShape: [1, 12, 12],
  dtype: "float32",
  fillValue: Number.NaN,
  dimensionNames: ["time", "lat", "lon"],
  attributes: { units: "K" },
  codecs: [
    { name: "bytes", configuration: { endian: "little" } },
    { name: "zstd", configuration: { level: 3, checksum: false } },
  ],
});
const size = 3 * 24 * 36;
const data = Float32Array.from({ length: size }, (_, i) => 273.15 + Math.sin(i / 50) * 20);
await zarr.set(temps, null, { data, shape: [3, 24, 36], stride: [24 * 36, 36, 1] });

// Overwrite one region: the first time step, a 4 x 6 box.
await zarr.set(temps, [0, zarr.slice(10, 14), zarr.slice(20, 26)], 300);

// Read back through a read-only store, as another process would.
const reader = store.withReadOnly(true);
const arr = await zarr.open(zarr.root(reader).resolve("t2m"), { kind: "array" });
if (!arr.is("float32")) throw new Error(`unexpected dtype ${arr.dtype}`);
const box = await zarr.get(arr, [0, zarr.slice(9, 15), zarr.slice(19, 27)]);
// Row lat=10 of the 6 x 8 box: lon 19 and 26 keep their values, 20..25 are 300.
const row = Array.from(box.data.slice(8, 16), (v) => v.toFixed(1)).join(" ");
console.log(`t2m[0, 10, 19:27] = ${row}`);

// The zarr-python store methods.
console.log(`keys: ${(await Array.fromAsync(store.list())).length}`);
console.log(`top level: ${(await Array.fromAsync(store.listDir(""))).sort().join(", ")}`);
console.log(`chunk bytes: ${await store.getSizePrefix("t2m/c")}`);
try {
  await reader.set("/zarr.json", new Uint8Array());
} catch (error) {
  console.log(`read-only store refused a write: ${(error as Error).message}`);
}
