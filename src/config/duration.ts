/**
 * Durations as users write them: seconds as a number, Slurm's `[D-]HH:MM:SS` / `MM:SS`, or
 * `90s`, `30m`, `2h`, `1d` (combinable: `1h30m`).
 *
 * @module
 */
import { z } from "zod";
import { parseDuration } from "./parse-duration.js";

export { parseDuration } from "./parse-duration.js";

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
