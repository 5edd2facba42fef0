/**
 * Slurm ids of array elements (`123_4`) and the arrays they belong to, as the backend tracks
 * them: which arrays it submitted with which elements, so cancelling every element of an array
 * is one `scancel 123` instead of one id per element.
 *
 * @module
 */

/** The array job id of an element id (`123_4` → `123`); `undefined` for a single job's id. */
export function arrayIdOf(jobId: string): string | undefined {
  const at = jobId.indexOf("_");
  return at < 0 ? undefined : jobId.slice(0, at);
}

/**
 * The ids to give `scancel` for cancelling `ids`: an array whose every element (as this backend
 * submitted it, in `arrays`) is cancelled now or already ended (`ended`) goes as its array id;
 * every other id as it is.
 */
export function scancelIds(ids: readonly string[], arrays: ReadonlyMap<string, ReadonlySet<string>>, ended: (id: string) => boolean): string[] {
  const wanted = new Set(ids);
  const whole = new Set<string>();
  for (const id of wanted) {
    const array = arrayIdOf(id);
    const elements = array === undefined ? undefined : arrays.get(array);
    if (array === undefined || !elements || whole.has(array)) continue;
    if ([...elements].every((e) => wanted.has(e) || ended(e))) whole.add(array);
  }
  const out = [...whole];
  for (const id of wanted) {
    const array = arrayIdOf(id);
    if (array === undefined || !whole.has(array)) out.push(id);
  }
  return out;
}

/** Records `jobId` as an element of its array in `arrays` (nothing for a single job's id). */
export function addArrayElement(arrays: Map<string, Set<string>>, jobId: string): void {
  const array = arrayIdOf(jobId);
  if (array === undefined) return;
  const elements = arrays.get(array) ?? new Set<string>();
  elements.add(jobId);
  arrays.set(array, elements);
}
