import { equal, ok } from "node:assert/strict";
import {
  getBytes,
  MemoryStore,
  openLocation,
  type PutCondition,
  type PutOptions,
  type PutResult,
  TransientError,
} from "../stores/mod.ts";
import { liveEnv, uniqueName } from "../../tests/_live.ts";
import { rootLockPrefix } from "./keys.ts";
import { tryRootLock } from "./root_lock.ts";

/** A store whose first create-only put lands but whose answer is lost. */
class LostAnswerStore extends MemoryStore {
  #lost = false;
  override async putIf(
    key: string,
    body: ReadableStream<Uint8Array>,
    condition: PutCondition,
    options?: PutOptions,
  ): Promise<PutResult> {
    const result = await super.putIf(key, body, condition, options);
    if (this.#lost) return result;
    this.#lost = true;
    throw new TransientError(`connection reset after PUT "${key}"`);
  }
}

Deno.test("tryRootLock: a create retried after a lost answer holds the lock it made", async () => {
  const store = new LostAnswerStore();
  const lock = await tryRootLock(store, "m/manifest.jsonl");
  ok(lock, "the retry found its own token in the lock object");
  equal(lock.key, `${rootLockPrefix("m/manifest.jsonl")}held`);
  equal(await tryRootLock(store, "m/manifest.jsonl"), undefined, "and it is exclusive");
  await lock.release();
  ok(await tryRootLock(store, "m/manifest.jsonl"));
});

/** A store whose create-only put is not exclusive, as native Swift's. */
class SharedCreateStore extends MemoryStore {
  override readonly exclusiveCreate = false;
}

Deno.test("tryRootLock: a store whose create is not exclusive gets the listing lock", async () => {
  const store = new SharedCreateStore();
  const prefix = rootLockPrefix("m/manifest.jsonl");
  const first = await tryRootLock(store, "m/manifest.jsonl");
  ok(first);
  ok(first.key.startsWith(prefix) && first.key !== `${prefix}held`, first.key);
  equal(await tryRootLock(store, "m/manifest.jsonl"), undefined);
  await first.release();
});

const swift = liveEnv(["ST_AUTH", "ST_USER", "ST_KEY"] as const, "the Swift test server");

Deno.test({
  name: "tryRootLock on native Swift: 8 concurrent contenders, at most one holds the lock",
  ignore: !swift,
  async fn() {
    const { store, key } = openLocation(`swift://${uniqueName("ferry-lock")}/m/manifest.jsonl`);
    await store.put("probe", new Blob(["x"]).stream()); // creates the container
    try {
      for (let round = 0; round < 3; round++) {
        const locks = await Promise.all(Array.from({ length: 8 }, () => tryRootLock(store, key)));
        const held = locks.filter((l) => l !== undefined);
        ok(held.length <= 1, `round ${round}: ${held.length} contenders hold the lock`);
        for (const lock of held) {
          ok(!lock.key.endsWith("/held"), "not Swift's non-exclusive If-None-Match");
          await lock.release();
        }
      }
      equal((await getBytes(store, "probe")).byteLength, 1);
    } finally {
      for await (const entry of store.list("")) {
        if (entry.kind === "object") await store.delete(entry.key);
      }
    }
  },
});
