/**
 * The GPU check driver's settings, from the environment run.sh sets (`GPU_CHECK_*`). A missing or
 * malformed one is an error naming the variable and its value, before anything runs.
 */
import { join } from "node:path";

/** Everything the driver needs. */
export interface CheckSettings {
  /** `fixture.json` written by `gpu_dag_runtime.testing.make_tiny_model`. */
  fixture: string;
  /** Where lm-eval and the compressed model run: `cuda` on the device, `cpu` when run.sh was told to. */
  device: "cuda" | "cpu";
  /** The jobs' Python interpreter. */
  python: string;
  /** Scratch folder: the store (`store/`), GPU leases (`leases/`). */
  work: string;
  /** Where the JSON summary goes. */
  summary: string;
  /** JSON that run.sh gathered before the run (versions, install times, dependency check); merged in. */
  preflight: string | undefined;
  /** `nvidia-smi` samples written by run.sh's sampler: `<ms since epoch> <index>, <util %>, <MiB used>;…` lines. */
  samples: string | undefined;
  /** Folder the in-job probe (probe/sitecustomize.py) writes to. */
  probeDir: string;
  /** Wall-clock limit of the whole run, seconds. */
  timeoutS: number;
  /** Calibration samples and their length for GPTQ. */
  numSamples: number;
  maxSeqLength: number;
  /** lm-eval batch size. */
  batchSize: number;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new Error(`gpu-check: ${name} is not set (run.sh sets it)`);
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`gpu-check: ${name}=${JSON.stringify(text)} is not a positive integer`);
  return value;
}

/** Reads and checks the settings. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): CheckSettings {
  const device = required(env, "GPU_CHECK_DEVICE");
  if (device !== "cuda" && device !== "cpu") throw new Error(`gpu-check: GPU_CHECK_DEVICE=${JSON.stringify(device)} must be "cuda" or "cpu"`);
  const work = required(env, "GPU_CHECK_WORK");
  return {
    fixture: required(env, "GPU_CHECK_FIXTURE"),
    device,
    python: required(env, "GPU_CHECK_PYTHON"),
    work,
    summary: required(env, "GPU_CHECK_SUMMARY"),
    preflight: env["GPU_CHECK_PREFLIGHT"] || undefined,
    samples: env["GPU_CHECK_SAMPLES"] || undefined,
    probeDir: env["GPU_CHECK_PROBE_DIR"] || join(work, "probes"),
    timeoutS: positiveInt(env, "GPU_CHECK_TIMEOUT_S", 420),
    numSamples: positiveInt(env, "GPU_CHECK_NUM_SAMPLES", 64),
    maxSeqLength: positiveInt(env, "GPU_CHECK_SEQ_LEN", 128),
    batchSize: positiveInt(env, "GPU_CHECK_BATCH_SIZE", 8),
  };
}
