import { equal } from "node:assert/strict";
import { EXIT, exitCodeFor } from "./command.ts";
import { NotFoundError, PermissionDeniedError, TransientError } from "../stores/errors.ts";

Deno.test("exitCodeFor() exits as the store failure a wrapper carries", () => {
  const wrapped = (cause: unknown) => new Error('Cannot validate item "a" asset "d": …', { cause });
  equal(exitCodeFor(wrapped(new PermissionDeniedError("no"))), EXIT.permission);
  equal(exitCodeFor(wrapped(new Deno.errors.NotCapable("Requires net access"))), EXIT.permission);
  equal(exitCodeFor(wrapped(wrapped(new NotFoundError("gone")))), EXIT.notFound);
  equal(exitCodeFor(wrapped(new TransientError("reset"))), EXIT.transient);
  // A TypeError deep inside (e.g. from fetch) is not a usage error of ferry's.
  equal(exitCodeFor(wrapped(new TypeError("fetch failed"))), EXIT.failed);
  equal(exitCodeFor(new RangeError("Invalid --max-workers 0")), EXIT.usage);
  equal(exitCodeFor("a string"), EXIT.failed);
});
