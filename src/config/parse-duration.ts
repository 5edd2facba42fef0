/**
 * Parsing durations as users write them (see `duration.ts`), without zod: the run table's
 * `--since` loads this and nothing heavier.
 *
 * @module
 */

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Parses a duration into whole seconds; returns `undefined` when the text is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? Math.ceil(value) : undefined;
  const text = value.trim();
  const slurm = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d{2})$/.exec(text);
  if (slurm) {
    const [, d = "0", h = "0", m = "0", s = "0"] = slurm;
    // `MM:SS` has no hour part; `D-HH:MM:SS` and `HH:MM:SS` do.
    const total = Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
    return total > 0 ? total : undefined;
  }
  const units = /^(?:\d+(?:\.\d+)?[smhd])+$/.test(text) ? [...text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)] : [];
  if (units.length === 0) return undefined;
  const total = units.reduce((sum, [, n, u]) => sum + Number(n) * UNIT_SECONDS[u as keyof typeof UNIT_SECONDS], 0);
  return total > 0 ? Math.ceil(total) : undefined;
}
