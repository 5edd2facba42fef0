/**
 * Run arguments of the CLI: every command that takes a `<run>` takes an id, a unique id prefix or
 * a run name (the newest run with it). An exact id is found without reading the run index.
 *
 * @module
 */
import type { CliContext } from "./context.js";
import { openStore } from "./context.js";

/** The run id `ref` names in the store at `context.home` (throws `RunNotFoundError`, or `RefError` for an ambiguous prefix). */
export async function resolveRunRef(context: CliContext, ref: string): Promise<string> {
  const store = await openStore(context);
  try {
    if (
      await store.getRun(ref).then(
        () => true,
        () => false,
      )
    )
      return ref;
    const [{ runSummaries }, { resolveRun }] = await Promise.all([import("../results/run-summaries.js"), import("../results/refs.js")]);
    return resolveRun(await runSummaries(store), ref).id;
  } finally {
    await store.close();
  }
}
