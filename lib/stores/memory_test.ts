import { runStoreConformance } from "../../tests/store_conformance.ts";
import { MemoryStore } from "./memory.ts";
import { RetryStore } from "./retry_store.ts";

runStoreConformance({ name: "memory", make: () => new MemoryStore() });
runStoreConformance({ name: "retry(memory)", make: () => new RetryStore(new MemoryStore()) });
