/**
 * `gpu-dag logs` on a job that draws progress bars with carriage returns: each line is shown in
 * its last state, at whatever byte boundary the log is read; CRLF endings are endings.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CarriageReturnCollapser, lastState } from "../../../src/cli/progress-lines.js";
import { gd, tempHome } from "./cli-helpers.js";

const BAR = "load  10%|#         |\rload  50%|#####     |\rload 100%|##########|\nready\r\n";

describe("carriage-return progress lines", () => {
  it("keeps each line's last state", () => {
    expect(lastState("a\rb\rc")).toBe("c");
    expect(lastState("done\r")).toBe("done");
    expect(lastState("x\r\r")).toBe("x");
    expect(lastState("plain")).toBe("plain");
  });

  it("gives the same text whatever the chunk boundaries", () => {
    for (let size = 1; size <= BAR.length; size++) {
      const lines = new CarriageReturnCollapser();
      let out = "";
      for (let i = 0; i < BAR.length; i += size) out += lines.push(BAR.slice(i, i + size));
      out += lines.end();
      expect(out, `chunks of ${size}`).toBe("load 100%|##########|\nready\n");
    }
  });

  it("shows an unfinished last line in its current state at the end", () => {
    const lines = new CarriageReturnCollapser();
    expect(lines.push("step 1/3\rstep 2/3")).toBe("");
    expect(lines.end()).toBe("step 2/3");
  });

  it("gpu-dag logs prints tqdm-style output in its last state", { timeout: 60_000 }, async () => {
    const home = await tempHome();
    const file = join(home, "bar.yaml");
    await writeFile(
      file,
      [
        "projectName: p",
        "pipelineName: bars",
        "tasks:",
        "  bar:",
        "    type: custom",
        "    options:",
        `      command: [printf, ${JSON.stringify(BAR.replace(/%/g, "%%"))}]`,
        "steps:",
        "  - { name: bar, baseTaskId: bar, executionQueue: cpu }",
      ].join("\n"),
    );
    const run = await gd(home, ["run", file, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const runId = (JSON.parse(run.stdout) as { runId: string }).runId;
    const logs = await gd(home, ["logs", runId, "bar"]);
    expect(logs.stdout).toBe("load 100%|##########|\nready\n");
  });
});
