import { describe, expect, it } from "vitest";
import { describeNotice, timeLimitReason } from "../../../src/backends/queue-backend.js";
import { BackendError, HostKeyError, isPermanentError, permanentErrorOf, SshAuthError } from "../../../src/errors.js";

describe("backend notices", () => {
  it("read as one line each, with attempt and delay", () => {
    const target = "me@login:22";
    expect(describeNotice({ kind: "connection-lost", target, attempt: 3, retryInMs: 8000, firstConnect: false, error: "ECONNREFUSED" })).toBe(
      "connection to me@login:22 lost, retrying (attempt 3, next in 8.0 s): ECONNREFUSED",
    );
    expect(describeNotice({ kind: "connection-lost", target, attempt: 1, retryInMs: 240, firstConnect: true, error: "timed out" })).toBe(
      "connection to me@login:22 failed, retrying (attempt 1, next in 0.2 s): timed out",
    );
    expect(describeNotice({ kind: "connection-restored", target, downMs: 41_400, attempts: 1 })).toBe("connection to me@login:22 restored after 41 s (1 failed attempt)");
    const error = new HostKeyError("login", "SHA256:x", "REFUSING to connect to me@login:22");
    expect(describeNotice({ kind: "connection-refused", target, error })).toBe("REFUSING to connect to me@login:22");
  });

  it("time-limit reasons are the same everywhere", () => {
    expect(timeLimitReason(30)).toBe("time limit of 30s exceeded");
  });
});

describe("permanent errors", () => {
  it("host-key and authentication refusals are permanent, also as a cause; other backend errors are not", () => {
    const hostKey = new HostKeyError("[h]:2222", "SHA256:x", "refused", ["SHA256:y"]);
    const auth = new SshAuthError("me@h:22", "/k", "refused");
    expect(isPermanentError(hostKey)).toBe(true);
    expect(isPermanentError(auth)).toBe(true);
    expect(auth.code).toBe("E_SSH_AUTH");
    const wrapped = new BackendError("slurm", "submit failed", { cause: hostKey });
    expect(permanentErrorOf(wrapped)).toBe(hostKey);
    expect(isPermanentError(new BackendError("slurm", "connection dropped"))).toBe(false);
    expect(isPermanentError(new Error("x"))).toBe(false);
  });
});
