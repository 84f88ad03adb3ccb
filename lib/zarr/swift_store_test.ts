import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import * as zarr from "zarrita";
import { NotFoundError, PermissionDeniedError } from "../stores/errors.ts";
import { SwiftObjectStore } from "../stores/swift/mod.ts";
import { liveEnv, uniqueName } from "../../tests/_live.ts";
import { runZarrStoreCases, zarritaRoundTrip } from "../../tests/zarr_store_cases.ts";
import { ZarrStore } from "./store.ts";
import { swiftAuthFromStorageOptions, SwiftStore } from "./swift_store.ts";

Deno.test("swiftAuthFromStorageOptions() refuses incomplete options and missing credentials", () => {
  throws(
    () => swiftAuthFromStorageOptions({ authurl: "http://x/auth/v1.0", user: "a:b" }),
    (e: Error) =>
      e instanceof TypeError &&
      e.message.startsWith("Incomplete Swift storageOptions (authurl, user)"),
  );
  throws(
    () => swiftAuthFromStorageOptions({ preauthtoken: "secret-token-xyz" }),
    (e: Error) => e instanceof TypeError && !e.message.includes("secret-token-xyz"),
  );
  throws(
    () => swiftAuthFromStorageOptions({}, () => undefined),
    /^TypeError: No Swift credentials/,
  );
});

Deno.test("swiftAuthFromStorageOptions() reads OS_STORAGE_URL and OS_AUTH_TOKEN", () => {
  const env: Record<string, string> = { OS_STORAGE_URL: "http://s/v1/AUTH_a", OS_AUTH_TOKEN: "t" };
  deepEqual(swiftAuthFromStorageOptions(undefined, (n) => env[n]), {
    storageUrl: "http://s/v1/AUTH_a",
    token: "t",
  });
});

Deno.test("SwiftStore.open() rejects a bad container name", async () => {
  for (const container of ["", "a/b"]) {
    await rejects(
      SwiftStore.open({ container, storageOptions: { preauthurl: "http://x", preauthtoken: "t" } }),
      (e: Error) =>
        e instanceof TypeError &&
        e.message.startsWith(`Invalid Swift container ${JSON.stringify(container)}`),
    );
  }
});

const env = liveEnv(
  ["ST_AUTH", "ST_USER", "ST_KEY", "OS_STORAGE_URL", "OS_AUTH_TOKEN"] as const,
  "the Swift test server",
);

if (env) {
  const tempauth = { authurl: env.ST_AUTH, user: env.ST_USER, key: env.ST_KEY };
  const container = uniqueName("ferry-zarr");
  const live = (name: string, fn: () => Promise<void>) =>
    Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });

  runZarrStoreCases({
    name: "SwiftStore",
    sanitize: false,
    async make(options) {
      const store = await SwiftStore.open({
        container,
        prefix: uniqueName("case"),
        storageOptions: tempauth,
        ...options,
      });
      return { store, objects: store.store, prefix: store.prefix };
    },
  });

  live("SwiftStore.open() creates a missing container, and read-only open does not", async () => {
    const fresh = uniqueName("ferry-zarr-new");
    await rejects(
      SwiftStore.open({ container: fresh, storageOptions: tempauth, readOnly: true }),
      (e: Error) => e instanceof NotFoundError && e.message.includes(fresh),
    );
    const store = await SwiftStore.open({ container: fresh, storageOptions: tempauth });
    equal(await store.isEmpty(), true);
    const reader = await SwiftStore.open({
      container: fresh,
      storageOptions: tempauth,
      readOnly: true,
    });
    equal(String(reader), `SwiftStore(swift://${fresh}/, read-only)`);
    await store.set("/zarr.json", new TextEncoder().encode("{}"));
    equal(await reader.getSize("zarr.json"), 2);
    await store.clear();
  });

  live(
    "SwiftStore.open() takes a pre-authenticated token, from options or the environment",
    async () => {
      const prefix = uniqueName("preauth");
      const byOptions = await SwiftStore.open({
        container,
        prefix,
        storageOptions: { preauthurl: env.OS_STORAGE_URL, preauthtoken: env.OS_AUTH_TOKEN },
      });
      await byOptions.set("/zarr.json", new Uint8Array([1, 2]));
      const vars: Record<string, string> = {
        OS_STORAGE_URL: env.OS_STORAGE_URL,
        OS_AUTH_TOKEN: env.OS_AUTH_TOKEN,
      };
      const byEnv = await SwiftStore.open({ container, prefix, env: (n) => vars[n] });
      deepEqual(await byEnv.get("/zarr.json"), new Uint8Array([1, 2]));
      const tempauthVars: Record<string, string> = {
        ST_AUTH: env.ST_AUTH,
        ST_USER: env.ST_USER,
        ST_KEY: env.ST_KEY,
      };
      const byTempauthEnv = await SwiftStore.open({
        container,
        prefix,
        env: (n) => tempauthVars[n],
      });
      deepEqual(
        await byTempauthEnv.getRange("/zarr.json", { suffixLength: 1 }),
        new Uint8Array([2]),
      );
      await byOptions.clear();
    },
  );

  live("SwiftStore.open() throws auth failures, with no secret in the message", async () => {
    const badToken = "AUTH_tk_not_a_real_token_0123456789";
    await rejects(
      SwiftStore.open({
        container,
        storageOptions: { preauthurl: env.OS_STORAGE_URL, preauthtoken: badToken },
      }),
      (e: Error) => e instanceof PermissionDeniedError && !e.message.includes(badToken),
    );
    const badKey = "not-the-password-4711";
    await rejects(
      SwiftStore.open({ container, storageOptions: { ...tempauth, key: badKey } }),
      (e: Error) => e instanceof PermissionDeniedError && !e.message.includes(badKey),
    );
  });

  live("SwiftStore.get() throws an auth failure instead of reporting a missing key", async () => {
    const store = new ZarrStore(
      new SwiftObjectStore({
        container,
        auth: { storageUrl: env.OS_STORAGE_URL, token: "AUTH_tk_expired_or_wrong_token" },
      }),
    );
    await rejects(store.get("/zarr.json"), PermissionDeniedError);
    await rejects(store.getRange("/zarr.json", { offset: 0, length: 1 }), PermissionDeniedError);
  });

  live("SwiftStore lists an array with more chunks than one listing page", async () => {
    const store = await SwiftStore.open({
      container,
      prefix: uniqueName("paged"),
      storageOptions: tempauth,
      listingPageSize: 10,
    });
    // 5 x 7 = 35 chunks: four listing pages of 10.
    await zarritaRoundTrip(store, { shape: [20, 28], chunkShape: [4, 4] });
    const chunks = await Array.fromAsync(store.listPrefix("temps/c/"));
    equal(chunks.length, 35);
    equal(new Set(chunks).size, 35);
    equal((await Array.fromAsync(store.list())).length, 37);
    const rows = await store.listDirEntries("temps/c");
    deepEqual(rows.prefixes, ["0", "1", "2", "3", "4"]);
    equal((await Array.fromAsync(store.listDir("temps/c/3"))).length, 7);
    ok((await store.getSizePrefix("temps")) > 0);
    await store.clear();
    equal(await store.isEmpty(), true);
  });

  live("SwiftStore reads many small chunks concurrently with zarrita", async () => {
    const store = await SwiftStore.open({
      container,
      prefix: uniqueName("many"),
      storageOptions: tempauth,
      maxConcurrency: 8,
    });
    const arr = await zarr.create(zarr.root(store), {
      shape: [60],
      chunkShape: [2],
      dtype: "int16",
    });
    const data = Int16Array.from({ length: 60 }, (_, i) => i - 30);
    await zarr.set(arr, null, { data, shape: [60], stride: [1] });
    deepEqual((await zarr.get(arr)).data, data);
    await store.clear();
  });

  Deno.test({
    name: "examples/zarr_swift.ts runs against the test server with scoped permissions",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const host = new URL(env.ST_AUTH).host;
      const example = new URL("../../examples/zarr_swift.ts", import.meta.url);
      const exampleContainer = uniqueName("ferry-zarr-example");
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          `--allow-net=${host}`,
          "--allow-env=ST_AUTH,ST_USER,ST_KEY,OS_STORAGE_URL,OS_AUTH_TOKEN",
          example.pathname,
          exampleContainer,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(run.stdout);
      equal(run.code, 0, new TextDecoder().decode(run.stderr));
      ok(out.includes("300.0 300.0 300.0 300.0 300.0 300.0"), out);
      ok(out.includes("top level: t2m, zarr.json"), out);
      ok(out.includes("read-only store refused a write"), out);
      const written = await SwiftStore.open({
        container: exampleContainer,
        storageOptions: tempauth,
      });
      await written.clear();
    },
  });
}
