/**
 * Which specs of one `submit` call go as Slurm job arrays, and how: specs sharing `group.key`,
 * `queue` and `resources` form one group; a group of two or more becomes arrays of at most
 * `maxArraySize` elements each (in `group.index` order), the rest go as single jobs. The map's
 * throttle `K` (`group.throttle`) holds across the chunks: it is spread over them (each at least
 * one), and when there are more chunks than `K`, chunk `j` waits for chunk `j − K` to end
 * (`--dependency=afterany`), so no more than `K` elements run at once. Pure.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { JobResources, JobSpec } from "../queue-backend.js";

/** One array job to submit: its elements, as indices into the submitted specs. */
export interface PlannedArray {
  /** Indices of the specs, in array-index order (element `i` is array task `i`). */
  specIndices: number[];
  /** `%K` of this array, when it must hold its elements back. */
  throttle?: number;
  /** Index (in {@link SubmissionPlan.arrays}) of the array this one waits for, when any. */
  after?: number;
}

/** What {@link planSubmission} decided. */
export interface SubmissionPlan {
  /** Indices of the specs that go as single jobs, in their order. */
  singles: number[];
  arrays: PlannedArray[];
}

/** The `resources` as a canonical string (keys sorted), so equal resources compare equal. */
function resourcesKey(resources: JobResources): string {
  return JSON.stringify(Object.fromEntries(Object.entries(resources).sort(([a], [b]) => a.localeCompare(b))));
}

/**
 * See the module comment. `maxArraySize` is the cluster's `MaxArraySize` (below 2: no arrays).
 * The order of `singles` and of the arrays follows the first spec of each.
 */
export function planSubmission(specs: readonly JobSpec[], maxArraySize: number): SubmissionPlan {
  const groups = new Map<string, number[]>();
  const order: Array<number | number[]> = [];
  specs.forEach((spec, i) => {
    if (!spec.group || maxArraySize < 2) {
      order.push(i);
      return;
    }
    const key = JSON.stringify([spec.group.key, spec.queue, resourcesKey(spec.resources)]);
    let members = groups.get(key);
    if (!members) {
      members = [];
      groups.set(key, members);
      order.push(members);
    }
    members.push(i);
  });
  const plan: SubmissionPlan = { singles: [], arrays: [] };
  for (const entry of order) {
    if (typeof entry === "number") plan.singles.push(entry);
    else if (entry.length === 1) plan.singles.push(entry[0] as number);
    else plan.arrays.push(...chunked(specs, entry, maxArraySize, plan.arrays.length));
  }
  plan.singles.sort((a, b) => a - b);
  return plan;
}

/** One group's arrays, numbered from `first` in the plan. */
function chunked(specs: readonly JobSpec[], members: number[], maxArraySize: number, first: number): PlannedArray[] {
  const sorted = [...members].sort((a, b) => (specs[a]?.group?.index ?? 0) - (specs[b]?.group?.index ?? 0) || a - b);
  const chunks: number[][] = [];
  for (let at = 0; at < sorted.length; at += maxArraySize) chunks.push(sorted.slice(at, at + maxArraySize));
  const declared = specs[members[0] as number]?.group?.throttle;
  if (declared === undefined) return chunks.map((specIndices) => ({ specIndices }));
  const throttle = Math.max(1, Math.floor(declared));
  const limits = spreadThrottle(
    throttle,
    chunks.map((c) => c.length),
  );
  return chunks.map((specIndices, j) => {
    const limit = limits[j] || 1;
    return {
      specIndices,
      ...(limit < specIndices.length ? { throttle: limit } : {}),
      // No slot of its own: one of the first `throttle` chunks' turn, after the one `throttle` before it.
      ...(limits[j] === 0 ? { after: first + j - throttle } : {}),
    };
  });
}

/**
 * `throttle` slots spread over chunks of the given sizes, one at a time round-robin, never more
 * than a chunk's size; chunks left without a slot (more chunks than slots) get 1 and wait for
 * an earlier one (see the module comment).
 */
export function spreadThrottle(throttle: number, sizes: readonly number[]): number[] {
  const limits = sizes.map(() => 0);
  let left = throttle;
  while (left > 0 && limits.some((l, j) => l < (sizes[j] ?? 0))) {
    for (let j = 0; j < sizes.length && left > 0; j++) {
      if ((limits[j] ?? 0) < (sizes[j] ?? 0)) {
        limits[j] = (limits[j] ?? 0) + 1;
        left--;
      }
    }
  }
  return limits;
}

/**
 * The Slurm job name of an array: its first element's job name, the element count and a hash of
 * the group key and every element's job name (`gd-r1-gen.0-a1-arr64-3f2a9c1e`). Deterministic,
 * and the same only for the same elements in the same order: its directory (named after it)
 * holds exactly one element list.
 */
export function arrayJobName(groupKey: string, elementJobNames: readonly string[]): string {
  const hash = createHash("sha256")
    .update([groupKey, ...elementJobNames].join("\n"))
    .digest("hex")
    .slice(0, 8);
  return `${elementJobNames[0] ?? "gd"}-arr${elementJobNames.length}-${hash}`;
}
