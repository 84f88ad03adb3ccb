// deno-lint-ignore-file no-console
/**
 * Finding the live test servers that `tests/services/` started. Under CI a
 * missing server fails the test; elsewhere the test is skipped with a reason.
 */

import type { S3StoreOptions } from "../lib/stores/s3/mod.ts";

/** The server environment, or undefined (with a printed reason) when absent outside CI. */
export function liveEnv<const T extends readonly string[]>(
  names: T,
  what: string,
): Record<T[number], string> | undefined {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value) values[name] = value;
    else missing.push(name);
  }
  if (missing.length === 0) return values as Record<T[number], string>;
  const reason = `${what} is not running (${
    missing.join(", ")
  } unset): start it with tests/services/start.sh`;
  if (Deno.env.get("CI") === "true") throw new Error(reason);
  console.warn(`skipping ${what} tests: ${reason}`);
  return undefined;
}

/** A name unique to this test run, safe as a bucket, container or prefix. */
export function uniqueName(base: string): string {
  return `${base}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The S3 test server (Swift's s3api) as `S3Store` options for `bucket`, or undefined when absent. */
export function liveS3(bucket: string): S3StoreOptions | undefined {
  const env = liveEnv(
    ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"] as const,
    "the S3 test server (Swift s3api)",
  );
  if (!env) return undefined;
  return {
    bucket,
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
  };
}
