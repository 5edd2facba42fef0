import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addKnownHost, checkHostKey, fingerprint, keyType, knownHostsName } from "../../../../src/backends/slurm/known-hosts.js";

// Two ed25519 keys made with ssh-keygen; the fingerprint below is what `ssh-keygen -lf` printed.
const KEY_A = "AAAAC3NzaC1lZDI1NTE5AAAAIEs7/c2kW1koODQPz03UNglCrVX2c6/F1EbFQinYPZ4i";
const KEY_B = "AAAAC3NzaC1lZDI1NTE5AAAAIDL57pYYnl0eG5/CqKVdRVHFnJALUQACldK8xKZAxMWi";
const A = Buffer.from(KEY_A, "base64");
const B = Buffer.from(KEY_B, "base64");

describe("known_hosts", () => {
  it("fingerprints like OpenSSH (SHA256, unpadded base64)", () => {
    expect(fingerprint(A)).toBe("SHA256:MmSCSzeMzTg0liL2ZXsfDk7PbOYzKqa4wksVYfQGTJQ");
    expect(keyType(A)).toBe("ssh-ed25519");
  });

  it("names non-22 ports [host]:port", () => {
    expect(knownHostsName("h", 22)).toBe("h");
    expect(knownHostsName("h", 2222)).toBe("[h]:2222");
  });

  it("matches plain entries, comma lists and patterns; brackets are literal", () => {
    expect(checkHostKey(`[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}\n`, "127.0.0.1", 2222, A)).toEqual({ verdict: "match" });
    expect(checkHostKey(`other,login.example.org ssh-ed25519 ${KEY_A}`, "login.example.org", 22, A)).toEqual({ verdict: "match" });
    expect(checkHostKey(`*.example.org ssh-ed25519 ${KEY_A}`, "login.example.org", 22, A)).toEqual({ verdict: "match" });
    expect(checkHostKey(`*.example.org,!login.example.org ssh-ed25519 ${KEY_A}`, "login.example.org", 22, A)).toEqual({ verdict: "unknown" });
    expect(checkHostKey(`[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}`, "127.0.0.1", 22, A)).toEqual({ verdict: "unknown" });
    expect(checkHostKey(`1 ssh-ed25519 ${KEY_A}`, "127.0.0.1", 22, A)).toEqual({ verdict: "unknown" });
  });

  it("matches hashed entries (ssh-keygen -H)", () => {
    const hashed = `|1|qha69AQjsbR5I6Lmxd7Pl8Cjjy0=|KiY6uGIWPBpv/vl88UCw1x2GYx0= ssh-ed25519 ${KEY_A}`;
    expect(checkHostKey(hashed, "h.example", 2200, A)).toEqual({ verdict: "match" });
    expect(checkHostKey(hashed, "h.example", 2200, B)).toEqual({ verdict: "mismatch", revoked: false, expected: [fingerprint(A)] });
    expect(checkHostKey(hashed, "other", 2200, A)).toEqual({ verdict: "unknown" });
  });

  it("a different key of the same type is a mismatch; of another type, unknown", () => {
    expect(checkHostKey(`h ssh-ed25519 ${KEY_B}`, "h", 22, A)).toEqual({ verdict: "mismatch", revoked: false, expected: [fingerprint(B)] });
    expect(checkHostKey(`h ssh-rsa AAAAB3NzaC1yc2E=`, "h", 22, A)).toEqual({ verdict: "unknown" });
  });

  it("a revoked key is refused; comments and cert-authority lines are ignored", () => {
    const text = `# comment\n@cert-authority * ssh-ed25519 ${KEY_B}\n@revoked * ssh-ed25519 ${KEY_A}\nh ssh-ed25519 ${KEY_A}\n`;
    expect(checkHostKey(text, "h", 22, A)).toEqual({ verdict: "mismatch", revoked: true, expected: [] });
  });

  it("accept-new appends a line that then matches", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kh-"));
    try {
      const file = join(dir, "sub", "known_hosts");
      await addKnownHost(file, "h", 2222, A);
      const text = await readFile(file, "utf8");
      expect(text).toBe(`[h]:2222 ssh-ed25519 ${KEY_A}\n`);
      expect(checkHostKey(text, "h", 2222, A)).toEqual({ verdict: "match" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
