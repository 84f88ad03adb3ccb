/**
 * Packages through a faulty network: push and pull against the real
 * registry through the loopback fault proxy (503 + Retry-After, uploads
 * reset mid-body, bodies cut short). Either the package arrives byte for
 * byte, or the command fails loudly; never a corrupt blob or a half
 * package at --output-dir.
 */
import { deepEqual, ok } from "node:assert/strict";
import { liveEnv, uniqueName } from "./_live.ts";
import { withTempDir } from "./_cli.ts";
import { buildTestPackage, filesOf } from "./_oci_package.ts";
import { startFaultProxy } from "./fault_proxy.ts";
import { pullPackage, pushPackage } from "../lib/oci/mod.ts";

const env = liveEnv(
  ["OCI_REGISTRY_URL", "OCI_REGISTRY_USER", "OCI_REGISTRY_PASSWORD"] as const,
  "the OCI test registry",
);

Deno.test({
  name: "pushPackage() and pullPackage() through a faulty proxy deliver the package intact",
  ignore: env === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const credentials = { username: env!.OCI_REGISTRY_USER, password: env!.OCI_REGISTRY_PASSWORD };
    const repository = `ferry-test/${uniqueName("faults")}`;
    const proxy = await startFaultProxy({
      upstream: env!.OCI_REGISTRY_URL,
      // Seed 21 injects all three kinds into this push and pull.
      seed: Number(Deno.env.get("FERRY_FAULT_SEED") ?? 21),
      rates: { status503: 0.1, resetUpload: 0.1, truncateBody: 0.1 },
      // The same faults whatever the unique repository name.
      drawKey: (target) => target.replace(repository, "REPO").replace(/_state=[^&]*/, ""),
    });
    try {
      await withTempDir(async (dir) => {
        const pkg = await buildTestPackage(`${dir}/pkg`, 3 * 1024 * 1024);
        const ref = `oci://${new URL(proxy.url).host}/${repository}:v1`;
        await pushPackage(pkg, ref, { plainHttp: true, credentials });
        await pullPackage(ref, `${dir}/out`, { plainHttp: true, credentials });
        deepEqual(await filesOf(`${dir}/out`), await filesOf(pkg));
      });
      const injected = proxy.count("status503") + proxy.count("truncateBody") +
        proxy.count("resetUpload");
      ok(injected > 0, "faults were injected");
    } finally {
      await proxy.close();
    }
  },
});
