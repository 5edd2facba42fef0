/**
 * The order a grid is tried in. Row-major order (`for a … for b …`) cut by a budget explores only
 * the first values of the first axis; here every axis advances at once, so any prefix of the order
 * covers as many values of each axis as it can: the first `k` points hold `min(k, n_j)` distinct
 * values of axis `j`, for every axis.
 *
 * Greedy: the next point is the untried one whose values were used least so far (the sum over
 * axes of how often its value was taken), ties to the lowest row-major index. For a 6 × 2 grid:
 * (0,0) (1,1) (2,0) (3,1) (4,0) (5,1) (0,1) (1,0) … — deterministic, so a resumed study asks the
 * same points. Cost: at most the budget × the grid size (10,000 points) steps, usually far less
 * (a point meeting the lower bound ends each scan).
 *
 * @module
 */

/** The first `count` points (index tuples) of the interleaved order of a grid with these axis sizes. */
export function interleavedGrid(sizes: readonly number[], count: number): number[][] {
  const total = sizes.reduce((n, s) => n * s, 1);
  const want = Math.min(count, total);
  const k = sizes.length;
  const counts = sizes.map((s) => new Uint32Array(s));
  const taken = new Uint8Array(total);
  const out: number[][] = [];
  const digits = new Array<number>(k).fill(0);
  for (let picked = 0; picked < want; picked++) {
    // No point can score below the sum of each axis's least-used value.
    let bound = 0;
    for (let j = 0; j < k; j++) bound += Math.min(...counts[j]!);
    let best = -1;
    let bestScore = Infinity;
    digits.fill(0);
    for (let index = 0; index < total; index++) {
      if (index > 0) increment(digits, sizes);
      if (taken[index]) continue;
      let score = 0;
      for (let j = 0; j < k; j++) score += counts[j]![digits[j]!]!;
      if (score < bestScore) {
        best = index;
        bestScore = score;
        if (score === bound) break;
      }
    }
    taken[best] = 1;
    const point = fromIndex(best, sizes);
    for (let j = 0; j < k; j++) counts[j]![point[j]!]! += 1;
    out.push(point);
  }
  return out;
}

/** Row-major increment (last axis fastest). */
function increment(digits: number[], sizes: readonly number[]): void {
  for (let j = sizes.length - 1; j >= 0; j--) {
    digits[j]! += 1;
    if (digits[j]! < sizes[j]!) return;
    digits[j] = 0;
  }
}

function fromIndex(index: number, sizes: readonly number[]): number[] {
  const point = new Array<number>(sizes.length).fill(0);
  for (let j = sizes.length - 1, rest = index; j >= 0; j--) {
    point[j] = rest % sizes[j]!;
    rest = Math.floor(rest / sizes[j]!);
  }
  return point;
}
