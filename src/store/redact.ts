/**
 * Keeping secrets out of everything gpu-dag writes or prints itself: the store (run records,
 * journals), its own logs, rendered batch scripts and `--dry-run` output.
 *
 * The rule: a value is secret when gpu-dag forwards it as a secret (a cluster's `requiredEnv`,
 * a task's `secretEnv`), or when it sits under an environment variable whose NAME looks secret
 * ({@link SECRET_NAME}: `*TOKEN*`, `*KEY*`, `*SECRET*`, `*PASSWORD*`, `*PASSWD*`, `*CREDENTIAL*`,
 * any case). Jobs still receive every value; only the copies gpu-dag records are replaced by
 * {@link REDACTED}. What a job prints itself lands in its own `stdout.log` / `stderr.log` — the
 * job's logs, not gpu-dag's — but a stderr tail that gpu-dag copies into a failure reason is
 * scrubbed of the secret values it knows.
 *
 * @module
 */

/** Environment variable names whose values are treated as secret. */
export const SECRET_NAME = /TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;

/** What a redacted value is replaced with. */
export const REDACTED = "***";

/** Secret values shorter than this are not searched for in free text (they would match everywhere). */
export const MIN_SCRUB_LENGTH = 4;

/** True when an environment variable of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A copy of `env` with the values of secret-looking names replaced by {@link REDACTED}. */
export function redactEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, isSecretName(name) ? REDACTED : value]));
}

/** Splits `env` into plain variables and those whose names look secret. */
export function splitSecretEnv(env: Readonly<Record<string, string>>): { plain: Record<string, string>; secret: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) (isSecretName(name) ? secret : plain)[name] = value;
  return { plain, secret };
}

/**
 * Task options as they may be recorded: the `env` option's secret-looking values redacted.
 * (`secretEnv` holds names only; its values never reach the options.)
 */
export function redactOptions<T extends Record<string, unknown>>(options: T): T {
  const env = options["env"];
  if (!env || typeof env !== "object" || Array.isArray(env)) return options;
  return { ...options, env: redactEnv(env as Record<string, string>) };
}

/**
 * Replaces every occurrence of the given secret values in `text` by {@link REDACTED}. Longer
 * values first, so a value containing another is replaced whole.
 */
export function scrubText(text: string, secrets: Iterable<string>): string {
  const values = [...new Set(secrets)].filter((v) => v.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/** {@link scrubText} applied to every string inside `value` (objects and arrays copied). */
export function scrubDeep<T>(value: T, secrets: ReadonlySet<string>): T {
  if (secrets.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return scrubText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** The values of `env` that are secret by name, plus every value of `secretEnv`. */
export function secretValues(env: Readonly<Record<string, string>>, secretEnv: Readonly<Record<string, string>> = {}): string[] {
  return [...Object.values(splitSecretEnv(env).secret), ...Object.values(secretEnv)];
}

/**
 * Puts back the values of `env` that were recorded as {@link REDACTED}: from `original` when this
 * process still holds it, else from the controller's environment under the same name. Throws
 * (via `missing`) for a redacted name with neither.
 */
export function restoreRedactedEnv(
  env: Readonly<Record<string, string>>,
  sources: { original?: Readonly<Record<string, string>> | undefined; processEnv: NodeJS.ProcessEnv },
  missing: (name: string) => Error,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== REDACTED || !isSecretName(name)) {
      out[name] = value;
      continue;
    }
    const restored = sources.original?.[name] ?? sources.processEnv[name];
    if (restored === undefined) throw missing(name);
    out[name] = restored;
  }
  return out;
}
