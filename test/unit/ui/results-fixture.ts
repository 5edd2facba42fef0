/**
 * A store for the dashboard's results pages: two evaluation runs of a base model and a compressed
 * one (lm-eval-style `task/metric` scores, a loss series, a metric and a parameter named with
 * markup), and a compress-then-evaluate run (its `compress` step makes model `tiny-w4a16`, which
 * its `eval` step is given with `--model` and scores) — real runs through `executeLocally` and the CLI.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FileStore } from "../../../src/store/file-store.js";
import { gd, json } from "../cli/cli-helpers.js";
import { runFixed } from "../results/fixed-evals.js";

/** A metric and a parameter value with markup: the pages must show them as text. */
export const HOSTILE = "<script>window.__pwned=4</script>";

/** What the fixture made. */
export interface ResultsFixture {
  base: string;
  candidate: string;
  /** The compress-then-evaluate run (made model `tiny-w4a16`). */
  compressed: string;
}

/** Values the step page must never show. */
export const TOKEN_VALUE = "hunter2-token-value";
export const SECRET_VALUE = "s3cr3t-secret-value";

/** A compression that makes a model, and an evaluation given it with `--model`. */
const COMPRESS_EVAL = `projectName: ui-test
pipelineName: compress-eval
defaults: { executionQueue: cpu }
tasks:
  compress:
    type: custom
    options:
      env: { PLAIN_VAR: visible, API_TOKEN: ${TOKEN_VALUE} }
      secretEnv: [GD_UI_TEST_SECRET]
      command: [sh, -c, 'mkdir -p out && echo w > out/w.txt && printf "{{\\"models\\": [{{\\"name\\": \\"tiny-w4a16\\", \\"path\\": \\"out\\"}}]}}" > "$GPU_DAG_OUTPUT_DIR/outputs.json"']
  evaluate:
    type: custom
    options:
      parameters: { model: none }
      command: [sh, -c, 'printf "{{\\"metrics\\": {{\\"arc/acc\\": 0.47}}}}" > "$GPU_DAG_OUTPUT_DIR/outputs.json"', sh, --model, '{model}']
steps:
  - name: compress
    baseTaskId: compress
  - name: eval
    baseTaskId: evaluate
    parameterOverride:
      model: \${compress.models.output.-1.url}
`;

const points = (...values: number[]) => values.map((value, iteration) => ({ iteration, value }));

/** Fills `home` with the runs above. */
export async function resultsFixture(home: string): Promise<ResultsFixture> {
  const store = new FileStore({ home });
  try {
    const base = await runFixed(store, {
      name: "base-model",
      parameters: { scheme: "none" },
      steps: { eval: { metrics: { "arc/acc": 0.5, "hellaswag/acc_norm": 0.6, [HOSTILE]: 1 }, series: { "train/loss": points(2, 1.5, 1.2, 1.1) } } },
    });
    const candidate = await runFixed(store, {
      name: "w4a16",
      parameters: { scheme: HOSTILE },
      steps: { eval: { metrics: { "arc/acc": 0.48, "hellaswag/acc_norm": 0.57, [HOSTILE]: 2 }, series: { "train/loss": points(2.2, 1.7, 1.3, 1.25) } } },
    });
    const file = join(home, "compress-eval.yaml");
    await writeFile(file, COMPRESS_EVAL);
    const ran = await gd(home, ["run", file, "--json", "--name", "compressed"], { env: { ...process.env, GD_UI_TEST_SECRET: SECRET_VALUE } });
    if (ran.code !== 0) throw new Error(ran.stderr);
    return { base, candidate, compressed: json<{ runId: string }>(ran).runId };
  } finally {
    await store.close();
  }
}
