/**
 * The GPU check's JSON summary: per step its wall time, GPUs, device names and metrics, and the
 * checks that decide whether the check passed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../../src/index.js";
import { jobDevices, type Probe, peakOver, type Sample, tail } from "./evidence.js";

/** What one step did, as the summary shows it. */
export interface StepSummary {
  status: string;
  attempts: number;
  queue: string;
  exitCode: number | null | undefined;
  reason: string | undefined;
  /** Start to end of the last attempt, seconds. */
  wallS: number | undefined;
  /** Queued until started (waiting for the GPU included), seconds. */
  waitS: number | undefined;
  /** Start and end, seconds after the run started. */
  startS: number | undefined;
  endS: number | undefined;
  /** What the local backend gave the job (`job.json`) and what its processes saw. */
  jobDevices: string[] | undefined;
  cudaVisibleDevices: Array<string | null>;
  /** `torch.cuda.get_device_name()` of the processes that used torch (`cpu`: torch without CUDA). */
  deviceNames: string[];
  cudaMaxMemoryMiB: number;
  /** `nvidia-smi` peaks while the step ran. */
  gpuSamples: ReturnType<typeof peakOver>;
  metrics: Record<string, number>;
  processes: Array<Pick<Probe, "pid" | "argv" | "cuda_visible_devices" | "device_names" | "cuda_max_memory_mib" | "exited">>;
  logTail: { stdout: string; stderr: string };
}

/** One named check. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Summarises one step of `result`. */
export function summariseStep(result: RunResult, name: string, probes: readonly Probe[], samples: readonly Sample[]): StepSummary {
  const step = result.steps[name]!;
  const own = probes.filter((p) => p.step === name);
  const dir = step.attemptDir;
  const seconds = (ms: number | undefined, from: number | undefined) => (ms !== undefined && from !== undefined ? Math.round(ms - from) / 1000 : undefined);
  return {
    status: step.status,
    attempts: step.attempts,
    queue: step.queue,
    exitCode: step.exitCode,
    reason: step.reason,
    wallS: step.durationMs !== undefined ? step.durationMs / 1000 : undefined,
    waitS: seconds(step.startedAt, step.queuedAt),
    startS: seconds(step.startedAt, result.startedAt),
    endS: seconds(step.endedAt, result.startedAt),
    jobDevices: jobDevices(dir),
    cudaVisibleDevices: [...new Set(own.map((p) => p.cuda_visible_devices))],
    deviceNames: [...new Set(own.filter((p) => p.torch).flatMap((p) => p.device_names))],
    cudaMaxMemoryMiB: Math.max(0, ...own.map((p) => p.cuda_max_memory_mib)),
    gpuSamples: peakOver(samples, step.startedAt ?? 0, step.endedAt ?? 0),
    metrics: result.metrics[name] ?? {},
    processes: own.map(({ pid, argv, cuda_visible_devices, device_names, cuda_max_memory_mib, exited }) => ({ pid, argv, cuda_visible_devices, device_names, cuda_max_memory_mib, exited })),
    logTail: dir ? { stdout: tail(join(dir, "stdout.log"), 15), stderr: tail(join(dir, "stderr.log")) } : { stdout: "", stderr: "" },
  };
}

/** Pairs of steps that held the same GPU at overlapping times (the pool must never allow it). */
export function overlaps(steps: Record<string, StepSummary>): string[] {
  const found: string[] = [];
  const names = Object.keys(steps);
  for (const [i, a] of names.entries()) {
    for (const b of names.slice(i + 1)) {
      const x = steps[a]!;
      const y = steps[b]!;
      const shared = (x.jobDevices ?? []).filter((d) => (y.jobDevices ?? []).includes(d));
      if (shared.length === 0 || x.startS === undefined || y.startS === undefined || x.endS === undefined || y.endS === undefined) continue;
      if (x.startS < y.endS && y.startS < x.endS) found.push(`${a} and ${b} both held GPU ${shared.join(",")}`);
    }
  }
  return found;
}

function countRows(file: string | undefined): number {
  if (!file || !existsSync(file)) return 0;
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "").length;
}

/** The checks: the run, each step's GPU and device, isolation, and what each tool produced. */
export function checks(result: RunResult, steps: Record<string, StepSummary>, detected: readonly string[], device: "cuda" | "cpu"): Check[] {
  const list: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => list.push({ name, ok, detail });
  add("run succeeded", result.status === "succeeded", `${result.status}${result.reason ? `: ${result.reason}` : ""}`);
  add("GPUs detected by nvidia-smi", detected.length > 0, `pool: [${detected.join(", ")}]`);
  for (const [name, step] of Object.entries(steps)) {
    const given = step.jobDevices ?? [];
    add(`${name}: got one detected GPU`, given.length === 1 && detected.includes(given[0]!), `job.json devices [${given.join(", ")}]`);
    const seen = step.cudaVisibleDevices;
    add(`${name}: its processes saw CUDA_VISIBLE_DEVICES=${given.join(",")}`, seen.length > 0 && seen.every((v) => v === given.join(",")), `seen: ${JSON.stringify(seen)}`);
    const names = step.deviceNames;
    const expected = device === "cuda" ? names.some((n) => n !== "cpu") : names.length > 0 && names.every((n) => n === "cpu");
    add(`${name}: ran on ${device === "cuda" ? "a CUDA device" : "the CPU"}`, expected, `device names: ${JSON.stringify(names)}; CUDA peak ${step.cudaMaxMemoryMiB} MiB`);
  }
  const clash = overlaps(steps);
  add("no two jobs held one GPU at once", clash.length === 0, clash.join("; ") || "none");
  const model = result.models.find((m) => m.step === "compress");
  let quant = "no model";
  if (model && existsSync(join(model.path, "config.json"))) {
    const config = JSON.parse(readFileSync(join(model.path, "config.json"), "utf8")) as {
      quantization_config?: { quant_method?: string; config_groups?: Record<string, { weights?: { num_bits?: number } }> };
    };
    const group = Object.values(config.quantization_config?.config_groups ?? {})[0];
    quant = `${config.quantization_config?.quant_method} ${group?.weights?.num_bits}-bit`;
  }
  add("compress wrote a 4-bit compressed-tensors model", quant === "compressed-tensors 4-bit", quant);
  for (const name of ["eval_base", "eval_compressed"]) {
    const acc = steps[name]?.metrics["tiny_suite/acc"];
    add(`${name}: lm-eval recorded tiny_suite/acc`, typeof acc === "number" && Number.isFinite(acc), `tiny_suite/acc = ${acc}`);
  }
  const output = result.steps["generate"]?.outputs?.artifacts.find((a) => a.name === "output");
  const rows = countRows(output?.path);
  add("generate wrote 20 answers", rows === 20, `${rows} rows`);
  return list;
}
