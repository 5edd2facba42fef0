/**
 * The layer rule of gpu-dag (`npm run lint:layers`, run by `npm test` after the type check).
 * CONTRIBUTING.md explains each layer; keep the two in step.
 *
 * Layers only look down. A module may import modules of a LOWER tier, and modules of its own
 * layer; it may not import a higher tier, nor a sibling layer of the same tier (so the runner
 * cannot reach a backend implementation, and the local and Slurm backends stay independent).
 * Type-only and dynamic (`await import()`) imports count too: the rule is about design, not only
 * about what loads at run time.
 *
 * | tier | layer            | paths                                         | concern |
 * | ---- | ---------------- | --------------------------------------------- | ------- |
 * | 0    | foundation       | src/errors.ts, src/package-root.ts            | error classes; where the package lies |
 * | 1    | args             | src/args/                                     | wrapArguments, shell quoting, didYouMean |
 * | 1    | store            | src/store/                                    | Store contract, records, file store, journal, run index |
 * | 1    | backend-contract | src/backends/*.ts                             | QueueBackend, JobSpec, JobState, job environment |
 * | 2    | config           | src/config/                                   | cluster config schemas, YAML/zod helpers, queue resolution |
 * | 3    | manifest         | src/manifest/                                 | outputs.json schema and reader |
 * | 3    | tasks            | src/tasks/                                    | task drafts and their commands, bundled configs |
 * | 4    | pipeline         | src/pipeline/                                 | PURE: graph, validation, placeholders, spec (no Node built-ins) |
 * | 5    | runner           | src/runner/                                   | drives a run through the QueueBackend + Store contracts |
 * | 5    | backend-local    | src/backends/local/                           | local processes, GPU pool, machine-wide leases |
 * | 5    | backend-slurm    | src/backends/slurm/                           | sbatch over SSH or on a login node (the only node-ssh user) |
 * | 5    | python-setup     | src/python/                                   | builds the job-side Python venv |
 * | 6    | remote           | src/remote/ (but controller-main.ts)          | the controller shipped to a cluster: start, guard, mirror |
 * | 6    | results          | src/results/                                  | over the store: run table, refs, compare, recovery, lineage |
 * | 7    | api              | src/api/                                      | the library's run API: Pipeline, createRun, driveRun, RunHandle |
 * | 7.5  | ui               | src/ui/                                       | `gpu-dag ui`: the web dashboard's server and front end |
 * | 8    | study            | src/study/                                    | studies: parameter sweeps whose trials are runs (drives them via api) |
 * | 9    | cli              | src/cli/                                      | the `gpu-dag` command |
 * | 9    | entry            | src/index.ts, src/remote/controller-main.ts   | programs and the public entry; nothing imports them |
 *
 * Besides the tiers:
 * - `pipeline` imports no Node built-in at all (it is data: a user can build and check one anywhere);
 * - `runner` starts no process and opens no file or socket itself: jobs go through the
 *   QueueBackend, files through the Store (and the manifest reader);
 * - only `backends/slurm` imports node-ssh / ssh2 (and loads it lazily, see ssh-transport.ts);
 * - no import cycles between modules; every import resolves; every module of src/ is in a layer.
 */

/** Each layer's `path` is one regex matching exactly its modules. */
const LAYERS = [
  { name: "foundation", tier: 0, path: "^src/(errors|package-root)\\.ts$" },
  { name: "args", tier: 1, path: "^src/args/" },
  { name: "store", tier: 1, path: "^src/store/" },
  { name: "backend-contract", tier: 1, path: "^src/backends/[^/]+\\.ts$" },
  { name: "config", tier: 2, path: "^src/config/" },
  { name: "manifest", tier: 3, path: "^src/manifest/" },
  { name: "tasks", tier: 3, path: "^src/tasks/" },
  { name: "pipeline", tier: 4, path: "^src/pipeline/" },
  { name: "runner", tier: 5, path: "^src/runner/" },
  { name: "backend-local", tier: 5, path: "^src/backends/local/" },
  { name: "backend-slurm", tier: 5, path: "^src/backends/slurm/" },
  { name: "python-setup", tier: 5, path: "^src/python/" },
  { name: "remote", tier: 6, path: "^src/remote/(?!controller-main\\.ts$)" },
  { name: "results", tier: 6, path: "^src/results/" },
  { name: "api", tier: 7, path: "^src/api/" },
  { name: "ui", tier: 7.5, path: "^src/ui/" },
  { name: "study", tier: 8, path: "^src/study/" },
  { name: "cli", tier: 9, path: "^src/cli/" },
  { name: "entry", tier: 9, path: "^src/(index|remote/controller-main)\\.ts$" },
];

const NODE_BUILTIN_IO = "^(node:)?(child_process|fs|fs/promises|net|dgram|tls|http|https|cluster|worker_threads)$";

/** One rule per layer: nothing at its own tier (other layers) or above. */
const layerRules = LAYERS.map((layer) => {
  const banned = LAYERS.filter((other) => other.name !== layer.name && other.tier >= layer.tier);
  return {
    name: `layer-${layer.name}`,
    comment: `${layer.name} (tier ${layer.tier}) may import only lower tiers and itself, not: ${banned.map((b) => b.name).join(", ")}`,
    severity: "error",
    from: { path: layer.path },
    to: { path: banned.map((b) => b.path) },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "in-a-layer",
      comment: "every module of src/ belongs to a layer of the table above (add new folders there)",
      severity: "error",
      from: { path: "^src/", pathNot: LAYERS.map((layer) => layer.path) },
      to: {},
    },
    {
      name: "pipeline-is-pure",
      comment: "pipeline/ is data and checks: no Node built-in modules (no processes, files or sockets)",
      severity: "error",
      from: { path: "^src/pipeline/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "runner-only-through-contracts",
      comment: "runner/ reaches jobs through QueueBackend and files through Store: no process, file or socket modules",
      severity: "error",
      from: { path: "^src/runner/" },
      to: { dependencyTypes: ["core"], path: NODE_BUILTIN_IO },
    },
    {
      name: "runner-no-store-implementation",
      comment: "runner/ knows the Store contract (store.ts, records, ids, redact), not the file store's insides",
      severity: "error",
      from: { path: "^src/runner/" },
      to: { path: "^src/store/(file-store|default-store|journal-writer|run-lock|atomic-write)\\.ts$" },
    },
    {
      name: "ssh-only-in-slurm-backend",
      comment: "only backends/slurm imports node-ssh / ssh2",
      severity: "error",
      from: { pathNot: "^src/backends/slurm/" },
      to: { path: "(^|/)node_modules/(node-ssh|ssh2)/" },
    },
    {
      name: "no-circular",
      comment: "no import cycles",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "every import resolves (a typo in a path would hide a dependency from these rules)",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".d.ts"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
