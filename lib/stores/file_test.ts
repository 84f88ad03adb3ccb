import { runStoreConformance } from "../../tests/store_conformance.ts";
import { FileStore } from "./file.ts";

const root = await Deno.makeTempDir({ prefix: "ferry-file-conformance-" });
runStoreConformance({
  name: "file",
  make: () => new FileStore({ root }),
  cleanup: () => Deno.remove(root, { recursive: true }),
});
