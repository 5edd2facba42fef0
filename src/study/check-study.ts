/**
 * Submit-time checks of a study against its pipeline — every problem at once, before a trial is
 * recorded: searched and fixed parameters must be declared `${pipeline.x}` parameters; the method
 * and its settings must fit; the objective must parse and name steps the pipeline has, and
 * metrics those steps produced in earlier runs of the same pipeline (where the store has any).
 *
 * @module
 */
import { didYouMean } from "../args/did-you-mean.js";
import { ConfigError } from "../errors.js";
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import type { Store } from "../store/store.js";
import { knownMetrics } from "./known-metrics.js";
import { type MetricRef, metricRefs, type ObjectiveNode, ObjectiveSyntaxError, parseObjective } from "./objective.js";
import { configurations, isEnumerable, type TrialParams } from "./space.js";
import type { StudySpec } from "./study-spec.js";

/** A problem, with the study field it is about. */
interface Problem {
  field: string;
  message: string;
}

/** What the checks give the controller: the parsed objective and the first trials' configurations. */
export interface CheckedStudy {
  objective: ObjectiveNode;
  /** Grid/random: every trial's configuration; halving: the first rung's. */
  configurations: TrialParams[];
}

/** The sampler a study draws its (first-rung) configurations with. */
export function samplerOf(spec: StudySpec): "grid" | "random" {
  if (spec.method === "grid") return "grid";
  if (spec.method === "random") return "random";
  return spec.halving?.sampler ?? (Object.values(spec.parameters).every(isEnumerable) ? "grid" : "random");
}

/** How many configurations the first rung (or the whole study) tries; `undefined`: the whole grid. */
export function budgetOf(spec: StudySpec): number | undefined {
  if (spec.method !== "halving") return spec.trials;
  const halving = spec.halving!;
  return spec.trials ?? halving.eta ** (halving.rungs.length - 1);
}

/** The objective, parsed; a syntax error becomes a {@link ConfigError} naming the field and the position. */
export function parseObjectiveOf(spec: StudySpec, where: string): ObjectiveNode {
  try {
    return parseObjective(spec.objective.expression);
  } catch (error) {
    if (!(error instanceof ObjectiveSyntaxError)) throw error;
    throw new ConfigError(`${where}: objective.expression ${JSON.stringify(spec.objective.expression)}: ${error.message}`, { field: "objective.expression" });
  }
}

/** Runs the checks; throws one {@link ConfigError} listing every problem (`where` names the study or its file). */
export async function checkStudy(spec: StudySpec, pipeline: PipelineSpec, store: Store, where: string): Promise<CheckedStudy> {
  const problems: Problem[] = [];
  const declared = Object.keys(pipeline.parameters);
  const checkDeclared = (name: string, field: string) => {
    if (name in pipeline.parameters) return;
    const hint = didYouMean(name, declared);
    problems.push({
      field,
      message: `"${name}" is not a parameter of pipeline ${pipeline.projectName}/${pipeline.pipelineName} (${declared.length > 0 ? `declared: ${declared.join(", ")}` : "it declares none"})${hint ? `; did you mean "${hint}"?` : ""}`,
    });
  };
  for (const name of Object.keys(spec.parameters)) checkDeclared(name, `parameters.${name}`);
  for (const name of Object.keys(spec.fixed)) {
    checkDeclared(name, `fixed.${name}`);
    if (name in spec.parameters) problems.push({ field: `fixed.${name}`, message: `"${name}" is both searched (parameters) and fixed` });
  }
  if (spec.method === "halving" && !spec.halving) problems.push({ field: "halving", message: 'method "halving" needs `halving: { parameter, rungs, eta }`' });
  if (spec.method !== "halving" && spec.halving) problems.push({ field: "halving", message: `halving settings are given but the method is "${spec.method}"` });
  if (spec.halving) {
    const { parameter } = spec.halving;
    checkDeclared(parameter, "halving.parameter");
    if (parameter in spec.parameters || parameter in spec.fixed) problems.push({ field: "halving.parameter", message: `"${parameter}" sets the rung budget: it cannot also be searched or fixed` });
  }
  if (spec.method === "random" && spec.trials === undefined) problems.push({ field: "trials", message: 'a random study needs a trial budget ("trials")' });

  let objective: ObjectiveNode | undefined;
  try {
    objective = parseObjectiveOf(spec, where);
  } catch (error) {
    problems.push({ field: "objective.expression", message: (error as Error).message.replace(`${where}: `, "") });
  }
  if (objective) problems.push(...(await objectiveProblems(metricRefs(objective), pipeline, store)));

  let points: TrialParams[] = [];
  if (!problems.some((p) => p.field === "trials" || p.field === "halving")) {
    try {
      points = configurations(spec, samplerOf(spec), budgetOf(spec));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push({ field: error.field ?? "parameters", message: error.message });
    }
  }
  if (problems.length > 0) {
    const text = problems.map((p) => `  ${p.field}: ${p.message}`).join("\n");
    throw new ConfigError(`${where}: ${problems.length} problem${problems.length > 1 ? "s" : ""}:\n${text}`, { field: problems[0]!.field });
  }
  return { objective: objective!, configurations: points };
}

/** Steps the objective names must exist; metrics must be among those the step reported before, when it did. */
async function objectiveProblems(refs: readonly MetricRef[], pipeline: PipelineSpec, store: Store): Promise<Problem[]> {
  const steps = pipeline.steps.map((s) => s.name);
  const problems: Problem[] = [];
  const known = await knownMetrics(store, pipeline, [...new Set(refs.map((r) => r.step).filter((s) => steps.includes(s)))]);
  for (const ref of refs) {
    if (!steps.includes(ref.step)) {
      const hint = didYouMean(ref.step, steps);
      problems.push({
        field: "objective.expression",
        message: `the objective reads step "${ref.step}", which the pipeline does not have (steps: ${steps.join(", ")})${hint ? `; did you mean "${hint}"?` : ""}`,
      });
      continue;
    }
    const earlier = known.get(ref.step);
    if (!earlier || earlier.metrics.has(ref.metric)) continue;
    const hint = didYouMean(ref.metric, earlier.metrics);
    const list = [...earlier.metrics].slice(0, 12).join(", ");
    problems.push({
      field: "objective.expression",
      message: `step "${ref.step}" reported no metric "${ref.metric}" in earlier runs of this pipeline (run ${earlier.runId} reported: ${list})${hint ? `; did you mean "${hint}"?` : ""}`,
    });
  }
  return problems;
}
