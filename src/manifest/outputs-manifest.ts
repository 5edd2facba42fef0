/**
 * The outputs manifest: the JSON file a job writes (`$GPU_DAG_OUTPUT_DIR/outputs.json`) to report
 * the models, artifacts and metrics it produced. The zod schema is the single source of truth.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { z } from "zod";
import { DEPTH_PROBLEM, isTooDeep, sizeProblem } from "../config/document-limits.js";
import { issueText } from "../config/issue-text.js";
import { ManifestError } from "../errors.js";

/** A model a job produced. `path` is as the job saw it (a directory on the job's filesystem). */
export const ManifestModelSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().min(1),
  framework: z.string().min(1).default("transformers"),
});

/** A file a job produced. */
export const ManifestArtifactSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().min(1),
});

/** The whole manifest. */
export const OutputsManifestSchema = z.strictObject({
  version: z.literal(1).default(1),
  /** True when written by the simulate runtime instead of the real tool. */
  simulated: z.boolean().default(false),
  models: z.array(ManifestModelSchema).default([]),
  artifacts: z.array(ManifestArtifactSchema).default([]),
  /** The last value of each metric (a metric with a series gets its last point when left out). */
  metrics: z.record(z.string(), z.number()).default({}),
  /**
   * Metrics reported more than once, as ClearML's `report_scalar` does: name → points in report
   * order (`{iteration, value}`). Kept whole in the store; `metrics` holds the last value.
   */
  series: z.record(z.string().min(1), z.array(z.strictObject({ iteration: z.number(), value: z.number() }))).optional(),
  /** Groups of tasks as lm-eval defines them (`group_subtasks`): group → its direct subtasks. */
  groups: z.record(z.string().min(1), z.array(z.string().min(1))).optional(),
});

/** A validated outputs manifest. */
export type OutputsManifest = z.infer<typeof OutputsManifestSchema>;

/** An empty manifest (a job that wrote none). */
export function emptyManifest(): OutputsManifest {
  return { version: 1, simulated: false, models: [], artifacts: [], metrics: {} };
}

/**
 * Reads and validates a manifest. A missing file is an empty manifest (jobs need not write one);
 * a file that is not JSON, is over the document limits (10 MiB, 64 levels of nesting) or does not
 * match the schema is a {@link ManifestError} naming the file.
 */
export async function readOutputsManifest(file: string): Promise<OutputsManifest> {
  let text: string;
  try {
    // Sized before it is read: a runaway job may write gigabytes.
    const tooBig = sizeProblem((await stat(file)).size);
    if (tooBig) throw new ManifestError(file, `outputs manifest ${file} is invalid: ${tooBig}`);
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyManifest();
    throw new ManifestError(file, `cannot read outputs manifest ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseOutputsManifest(text, file);
}

/** Validates manifest text; `file` is only used in error messages. */
export function parseOutputsManifest(text: string, file: string): OutputsManifest {
  const tooBig = sizeProblem(Buffer.byteLength(text, "utf8"));
  if (tooBig) throw new ManifestError(file, `outputs manifest ${file} is invalid: ${tooBig}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(file, `outputs manifest ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (isTooDeep(raw)) throw new ManifestError(file, `outputs manifest ${file} is invalid: ${DEPTH_PROBLEM}`);
  const parsed = OutputsManifestSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${issueText(OutputsManifestSchema, raw, i)}`).join("; ");
    throw new ManifestError(file, `outputs manifest ${file} is invalid: ${details}`, { cause: parsed.error });
  }
  return withSeriesLastValues(parsed.data);
}

/** A metric reported only as a series gets its last point as its value. */
function withSeriesLastValues(manifest: OutputsManifest): OutputsManifest {
  for (const [name, points] of Object.entries(manifest.series ?? {})) {
    const last = points[points.length - 1];
    if (last !== undefined && manifest.metrics[name] === undefined) manifest.metrics[name] = last.value;
  }
  return manifest;
}
