import { equal, ok } from "node:assert/strict";
import { redact, registerSecret } from "./redact.ts";
import { NotFoundError } from "./errors.ts";

Deno.test("redact() removes signatures, tokens, credentials in URLs and registered secrets", () => {
  const cases: [string, string][] = [
    [
      "https://h/o?X-Amz-Signature=abc123&X-Amz-Credential=AKIA/x",
      "https://h/o?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED",
    ],
    ["X-Auth-Token: AUTH_tk0123456789abcdef0123", "X-Auth-Token: REDACTED"],
    ["https://user:pass@host/x", "https://REDACTED@host/x"],
    ["Authorization: Bearer abc.def.ghi", "Authorization: REDACTED"],
    ["token AUTH_tkaaaaaaaaaaaaaaaaaaaaaaaa here", "token REDACTED here"],
  ];
  for (const [input, expected] of cases) equal(redact(input), expected);
  registerSecret("hunter2-password");
  equal(redact("login failed for hunter2-password"), "login failed for REDACTED");
});

Deno.test("StoreError redacts its message on construction", () => {
  registerSecret("s3cr3t-key-value");
  const error = new NotFoundError("GET https://h/x?sig=zzz failed with s3cr3t-key-value");
  ok(!error.message.includes("zzz") && !error.message.includes("s3cr3t-key-value"), error.message);
});
