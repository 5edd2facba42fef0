/**
 * A pipeline whose job prints what a dashboard must show as text: markup, ANSI colours, a
 * progress bar redrawn with `\r`, and lines over time (to watch the log grow).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Writes the pipeline into `dir`; `lines` lines, one each `every` seconds, after the hostile ones. */
export async function hostilePipeline(dir: string, lines = 0, every = 0.3): Promise<string> {
  const file = join(dir, "hostile.yaml");
  const script = [
    `printf '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">\\n'`,
    `printf '\\033[31mred text\\033[0m\\n'`,
    `printf 'progress 10%%\\rprogress 50%%\\rprogress 100%%\\n'`,
    `i=0; while [ $i -lt ${lines} ]; do echo "tick $i"; i=$((i+1)); sleep ${every}; done`,
    `printf '{{"metrics": {{"n": 1}}}}' > "$GPU_DAG_OUTPUT_DIR/outputs.json"`,
  ].join("; ");
  await writeFile(
    file,
    `projectName: ui-test
pipelineName: hostile
parameters:
  note: { default: plain, description: shown in the runs table (the tests pass markup) }
tasks:
  noisy:
    type: custom
    options:
      command: [sh, -c, ${JSON.stringify(script)}]
defaults: { executionQueue: cpu }
steps:
  - name: noisy
    baseTaskId: noisy
`,
  );
  return file;
}
