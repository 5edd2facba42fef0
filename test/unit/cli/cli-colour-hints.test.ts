/**
 * What the CLI prints around states and failures, through the real binary: state words are
 * coloured with FORCE_COLOR=1 and never with NO_COLOR=1 or piped output (`status`, `runs`,
 * `watch`, `wait`, `run`'s progress lines); after a failure `run`, `wait`, `watch` and `status`
 * hint at the next command (`gpu-dag logs <run> <step> --stderr`, `gpu-dag resume <run>`), on
 * stderr with `--json` so that stdout stays one JSON document.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE, gd, json, ROOT, tempHome } from "./cli-helpers.js";

const PIPELINE = join(ROOT, "test", "fixtures", "terminal", "long-reasons.yaml");
const ESC = "\x1b[";
const PLAIN = { NO_COLOR: "", FORCE_COLOR: "" };
const red = (word: string) => `\x1b[31m${word}\x1b[39m`;
const green = (word: string) => `\x1b[32m${word}\x1b[39m`;

describe("colours and hints", { timeout: 120_000 }, () => {
  let home: string;
  let runId: string;
  let okRun: string;
  let first: Awaited<ReturnType<typeof gd>>;

  beforeAll(async () => {
    home = await tempHome();
    first = await gd(home, ["run", PIPELINE], { env: { ...PLAIN, FORCE_COLOR: "1" } });
    runId = /^run (\S+):/.exec(first.stdout)![1]!;
    const ok = await gd(home, ["run", join(EXAMPLE, "pipeline.yaml")], { env: PLAIN });
    expect(ok.code, ok.stderr).toBe(0);
    okRun = /^run (\S+):/.exec(ok.stdout)![1]!;
  });

  it("FORCE_COLOR=1 colours the state words of run's progress, status, runs, wait and watch", async () => {
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(`${red("FAILED")}   fails: exited with code 1`);
    expect(first.stdout).toContain(`${green("success")}  slow`);
    expect(first.stdout).toContain(`run ${runId} ${red("failed")} in`);
    const env = { env: { ...PLAIN, FORCE_COLOR: "1" } };
    const status = await gd(home, ["status", runId], env);
    expect(status.stdout).toContain(`terminal/long-reasons  ${red("failed")}`);
    expect(status.stdout.split("\n").find((l) => l.startsWith("fails "))).toContain(red("failed"));
    expect(status.stdout).toContain(green("succeeded"));
    const runs = await gd(home, ["runs"], env);
    expect(runs.stdout).toContain(red("failed"));
    expect(runs.stdout).toContain(green("succeeded"));
    expect((await gd(home, ["wait", runId], env)).stdout).toContain(`run ${runId} ${red("failed")} in`);
    expect((await gd(home, ["watch", runId], env)).stdout).toContain(`] ${red("failed")}  2/4 done`);
  });

  it("NO_COLOR=1, or output that is not a terminal, has no escape codes (even with FORCE_COLOR, NO_COLOR wins)", async () => {
    // CI=true too: piped output in CI is not a terminal either.
    for (const env of [PLAIN, { ...PLAIN, CI: "true" }, { ...PLAIN, NO_COLOR: "1" }, { NO_COLOR: "1", FORCE_COLOR: "1" }, { ...PLAIN, FORCE_COLOR: "0" }]) {
      for (const args of [["status", runId], ["runs"], ["wait", runId], ["watch", runId], ["run", PIPELINE]]) {
        const result = await gd(home, args, { env });
        expect(result.stdout, `${args.join(" ")} with ${JSON.stringify(env)}`).not.toContain(ESC);
        expect(result.stdout).toMatch(/failed/);
      }
    }
  });

  it("after a failure, run, wait, watch and status print the next commands", async () => {
    const logs = `hint: why fails failed: gpu-dag logs ${runId} fails --stderr`;
    const resume = `gpu-dag resume ${runId}`;
    expect(first.stdout).toContain(logs);
    expect(first.stdout).toContain(resume);
    for (const args of [
      ["wait", runId],
      ["watch", runId],
      ["status", runId],
    ]) {
      const result = await gd(home, args, { env: PLAIN });
      expect(result.stdout, args.join(" ")).toContain(logs);
      expect(result.stdout, args.join(" ")).toContain(resume);
    }
    // The hinted command works: it shows the failed step's stderr.
    const shown = await gd(home, ["logs", runId, "fails", "--stderr"], { env: PLAIN });
    expect(shown.stdout).toContain("tokenizer_config.json is missing");
    // Nothing to hint after a success.
    for (const args of [
      ["status", okRun],
      ["wait", okRun],
    ])
      expect((await gd(home, args, { env: PLAIN })).stdout).not.toContain("hint:");
  });

  it("with --json the hints go to stderr and stdout stays one JSON document", async () => {
    const run = await gd(home, ["run", PIPELINE, "--json"], { env: PLAIN });
    expect(run.code).toBe(1);
    const doc = json<{ runId: string; status: string }>(run);
    expect(doc.status).toBe("failed");
    expect(run.stderr).toContain(`hint: why fails failed: gpu-dag logs ${doc.runId} fails --stderr`);
    for (const args of [
      ["status", runId, "--json"],
      ["wait", runId, "--json"],
      ["watch", runId, "--json"],
    ]) {
      const result = await gd(home, args, { env: PLAIN });
      expect(json(result)).toMatchObject({ status: "failed" });
      expect(result.stderr, args.join(" ")).toContain(`gpu-dag logs ${runId} fails --stderr`);
      expect(result.stderr).toContain(`gpu-dag resume ${runId}`);
    }
  });
});
