/**
 * What the GPU check reads back after the run: the in-job probes, the `nvidia-smi` samples, the
 * local backend's `job.json` and the tails of the job logs.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One Python process of a job, as probe/sitecustomize.py recorded it. */
export interface Probe {
  pid: number;
  ppid: number;
  step: string | null;
  argv: string[];
  cuda_visible_devices: string | null;
  torch: boolean;
  torch_version?: string;
  device_names: string[];
  cuda_max_memory_mib: number;
  exited: boolean;
  started_at: number;
  ended_at?: number;
}

/** Every probe record in `dir` (none when it does not exist). */
export function readProbes(dir: string): Probe[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(dir, f), "utf8")) as Probe];
      } catch {
        return []; // a record being replaced right now; the next one is complete
      }
    })
    .sort((a, b) => a.started_at - b.started_at);
}

/** One reading of every GPU. */
export interface Sample {
  at: number;
  gpus: Array<{ index: string; utilization: number; memoryMiB: number }>;
}

/** Parses run.sh's sampler file: `<ms> <index>, <util>, <MiB>;<index>, …` per line. */
export function readSamples(file: string | undefined): Sample[] {
  if (!file || !existsSync(file)) return [];
  const samples: Sample[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^(\d+) (.*)$/.exec(line.trim());
    if (!match) continue;
    const gpus = match[2]!
      .split(";")
      .map((part) => part.split(",").map((s) => s.trim()))
      .filter((cols) => cols.length >= 3 && cols.slice(1, 3).every((c) => c !== "" && Number.isFinite(Number(c))))
      .map((cols) => ({ index: cols[0]!, utilization: Number(cols[1]), memoryMiB: Number(cols[2]) }));
    if (gpus.length > 0) samples.push({ at: Number(match[1]), gpus });
  }
  return samples;
}

/** Peak utilisation and memory of each GPU over the samples taken in `[from, to]` (ms). */
export function peakOver(samples: readonly Sample[], from: number, to: number): { samples: number; gpus: Record<string, { peakUtilization: number; peakMemoryMiB: number }> } {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  const gpus: Record<string, { peakUtilization: number; peakMemoryMiB: number }> = {};
  for (const sample of inside) {
    for (const gpu of sample.gpus) {
      const peak = gpus[gpu.index] ?? { peakUtilization: 0, peakMemoryMiB: 0 };
      gpus[gpu.index] = peak;
      peak.peakUtilization = Math.max(peak.peakUtilization, gpu.utilization);
      peak.peakMemoryMiB = Math.max(peak.peakMemoryMiB, gpu.memoryMiB);
    }
  }
  return { samples: inside.length, gpus };
}

/** The devices the local backend gave the job (its `job.json`), if recorded. */
export function jobDevices(attemptDir: string | undefined): string[] | undefined {
  if (!attemptDir) return undefined;
  try {
    const record = JSON.parse(readFileSync(join(attemptDir, "job.json"), "utf8")) as { devices?: string[] };
    return record.devices;
  } catch {
    return undefined;
  }
}

/** The last `lines` lines of a text file (at most `maxChars` characters), "" when absent. */
export function tail(file: string, lines = 40, maxChars = 6000): string {
  if (!existsSync(file)) return "";
  const text = readFileSync(file, "utf8")
    .split(/\r?\n|\r/)
    .filter((l) => l.trim() !== "")
    .slice(-lines)
    .join("\n");
  return text.length > maxChars ? text.slice(-maxChars) : text;
}
