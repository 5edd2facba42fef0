/**
 * Durations as users write them: seconds as a number, Slurm's `[D-]HH:MM:SS` / `MM:SS`, or
 * `90s`, `30m`, `2h`, `1d` (combinable: `1h30m`).
 *
 * @module
 */
import { z } from "zod";

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

/** Formats seconds as Slurm's `D-HH:MM:SS`. */
export function formatSlurmTime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const hms = [h, m, s].map((n) => String(n).padStart(2, "0")).join(":");
  return d > 0 ? `${d}-${hms}` : hms;
}

/** Zod schema accepting any duration spelling and giving seconds. */
export const DurationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `invalid duration ${JSON.stringify(value)}: expected seconds, "HH:MM:SS", "D-HH:MM:SS" or e.g. "90m", "2h", "1h30m"`,
    });
    return z.NEVER;
  }
  return seconds;
});
