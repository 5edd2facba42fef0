/**
 * Parameter spaces → trial parameters: the grid points of each axis, seeded random draws, and the
 * list of configurations a study tries (in the order it asks them).
 *
 * @module
 */
import { ConfigError } from "../errors.js";
import { interleavedGrid } from "./grid-order.js";
import type { ParameterSpace, StudySpec } from "./study-spec.js";

/** A value of `${pipeline.x}`. */
export type ParamValue = string | number | boolean;
/** One configuration: parameter → value. */
export type TrialParams = Record<string, ParamValue>;

/** The most grid points a study enumerates (beyond: use `method: random`). */
export const MAX_GRID_POINTS = 10_000;

/** The grid values of one axis, or why it has none (a float range without `count`). */
export function axisValues(name: string, space: ParameterSpace): ParamValue[] {
  if ("values" in space) return [...new Set(space.values)];
  if ("float" in space) {
    const { min, max, log, count } = space.float;
    if (count === undefined) throw new ConfigError(`study parameter "${name}": a float range needs "count" (how many grid points) to be searched by grid`, { field: `parameters.${name}.float.count` });
    return spaced(min, max, count, log);
  }
  const { min, max, step = 1, log, count } = space.int;
  if (log || count !== undefined) {
    if (count === undefined)
      throw new ConfigError(`study parameter "${name}": a log-scale int range needs "count" (how many grid points) to be searched by grid`, { field: `parameters.${name}.int.count` });
    return [...new Set(spaced(min, max, count, log).map((v) => onLattice(v, min, max, step)))];
  }
  const out: number[] = [];
  for (let v = min; v <= max; v += step) out.push(v);
  if (out.length > MAX_GRID_POINTS)
    throw new ConfigError(`study parameter "${name}": ${out.length} grid values (at most ${MAX_GRID_POINTS}); give "step" or "count"`, { field: `parameters.${name}.int` });
  return out;
}

function spaced(min: number, max: number, count: number, log: boolean): number[] {
  return Array.from({ length: count }, (_, i) => {
    const f = i / (count - 1);
    const v = log ? Math.exp(Math.log(min) + f * (Math.log(max) - Math.log(min))) : min + f * (max - min);
    // Endpoints exact; others to 12 significant digits, so the same point prints the same way.
    return i === 0 ? min : i === count - 1 ? max : Number(v.toPrecision(12));
  });
}

function onLattice(v: number, min: number, max: number, step: number): number {
  return Math.min(max, Math.max(min, min + Math.round((v - min) / step) * step));
}

/** A small seeded PRNG (mulberry32): the same seed gives the same draws on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One random value of `space`. */
export function drawValue(space: ParameterSpace, random: () => number): ParamValue {
  if ("values" in space) return space.values[Math.floor(random() * space.values.length)]!;
  if ("float" in space) {
    const { min, max, log } = space.float;
    const v = log ? Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))) : min + random() * (max - min);
    return Number(v.toPrecision(12));
  }
  const { min, max, step = 1, log } = space.int;
  if (!log) return min + Math.floor(random() * (Math.floor((max - min) / step) + 1)) * step;
  return onLattice(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))), min, max, step);
}

/** Grid points and random draws need this: the canonical text of a configuration. */
export function paramsKey(params: TrialParams): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
}

/**
 * The configurations a study tries, in order: for `grid` the interleaved grid (see
 * grid-order.ts), cut at the budget; for `random` `count` seeded draws without repeats (fewer when
 * a finite space runs out). `count` is the budget (`undefined`: the whole grid).
 */
export function configurations(spec: Pick<StudySpec, "parameters" | "seed">, sampler: "grid" | "random", count: number | undefined): TrialParams[] {
  const names = Object.keys(spec.parameters);
  if (sampler === "grid") {
    const axes = names.map((name) => axisValues(name, spec.parameters[name]!));
    const size = axes.reduce((n, a) => n * a.length, 1);
    if (size > MAX_GRID_POINTS) throw new ConfigError(`the study's grid has ${size} points (at most ${MAX_GRID_POINTS}); use method "random" with a trial budget`, { field: "parameters" });
    return interleavedGrid(
      axes.map((a) => a.length),
      count ?? size,
    ).map((indices) => Object.fromEntries(names.map((name, j) => [name, axes[j]![indices[j]!]!])));
  }
  if (count === undefined) throw new ConfigError('a random study needs a trial budget ("trials")', { field: "trials" });
  const random = seededRandom(spec.seed);
  const seen = new Set<string>();
  const out: TrialParams[] = [];
  // A finite space (lists of values, small int ranges) can run out: give up after many repeats in a row.
  for (let misses = 0; out.length < count && misses < 1000; ) {
    const params = Object.fromEntries(names.map((name) => [name, drawValue(spec.parameters[name]!, random)]));
    const key = paramsKey(params);
    if (seen.has(key)) {
      misses += 1;
      continue;
    }
    misses = 0;
    seen.add(key);
    out.push(params);
  }
  return out;
}

/** Whether every axis has grid values without being told how many (lists of values, linear int ranges). */
export function isEnumerable(space: ParameterSpace): boolean {
  return "values" in space || ("int" in space && !space.int.log);
}
