/**
 * A study's objective: a small arithmetic expression over the metrics of a trial's steps, parsed
 * by the recursive-descent parser here and evaluated on the parsed tree (never with `eval`):
 *
 * ```
 * expr    := term (("+" | "-") term)*
 * term    := unary (("*" | "/") unary)*
 * unary   := ("-" | "+") unary | primary
 * primary := number | "(" expr ")" | fn "(" expr ("," expr)* ")" | metric
 * metric  := step ".metrics" ( "[" string "]" | "." name )
 * fn      := min | max | mean | abs
 * ```
 *
 * e.g. `eval.metrics["openllm/average"]`, or a recovery against a baseline step:
 * `100 * eval_compressed.metrics["gsm8k/acc"] / eval_base.metrics["gsm8k/acc"]`. Step names may
 * hold `-`, so subtraction between names wants spaces (`a.metrics.x - b.metrics.y`).
 *
 * @module
 */

/** One metric the expression reads. */
export interface MetricRef {
  step: string;
  metric: string;
}

/** The parsed expression. */
export type ObjectiveNode =
  | { kind: "number"; value: number }
  | { kind: "metric"; ref: MetricRef }
  | { kind: "neg"; arg: ObjectiveNode }
  | { kind: "binary"; op: "+" | "-" | "*" | "/"; left: ObjectiveNode; right: ObjectiveNode }
  | { kind: "call"; fn: FunctionName; args: ObjectiveNode[] };

/** The functions an objective may call. */
export const OBJECTIVE_FUNCTIONS = ["min", "max", "mean", "abs"] as const;
type FunctionName = (typeof OBJECTIVE_FUNCTIONS)[number];

/** A syntax error: `message` names the position (0-based `offset`) and what was expected. */
export class ObjectiveSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "ObjectiveSyntaxError";
    this.offset = offset;
  }
}

type Token = { kind: "number"; value: number; at: number } | { kind: "string"; value: string; at: number } | { kind: "name"; value: string; at: number } | { kind: "punct"; value: string; at: number };

const MAX_LENGTH = 2000;

function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH) throw new ObjectiveSyntaxError(`the expression is longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ kind: "number", value: Number(m[0]), at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i))!;
      tokens.push({ kind: "name", value: m[0], at: i });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = "";
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) j += 1;
        value += text[j];
        j += 1;
      }
      if (j >= text.length) throw new ObjectiveSyntaxError(`unterminated string starting at ${i + 1}`, i);
      tokens.push({ kind: "string", value, at: i });
      i = j + 1;
    } else if ("+-*/()[].,".includes(c)) {
      tokens.push({ kind: "punct", value: c, at: i });
      i += 1;
    } else {
      throw new ObjectiveSyntaxError(`unexpected ${JSON.stringify(c)} at ${i + 1}`, i);
    }
  }
  return tokens;
}

/** Parses `text`; throws {@link ObjectiveSyntaxError} naming the position of the first problem. */
export function parseObjective(text: string): ObjectiveNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const where = (): string => {
    const t = peek();
    return t ? `${JSON.stringify(text.slice(t.at, t.at + 20))} at ${t.at + 1}` : "the end";
  };
  const fail = (expected: string): never => {
    throw new ObjectiveSyntaxError(`expected ${expected}, found ${where()}`, peek()?.at ?? text.length);
  };
  const isPunct = (value: string): boolean => {
    const t = peek();
    return t?.kind === "punct" && t.value === value;
  };
  const expect = (value: string): void => {
    if (!isPunct(value)) fail(`"${value}"`);
    pos += 1;
  };
  let depth = 0;

  const expr = (): ObjectiveNode => {
    if (++depth > 64) fail("a shallower expression (at most 64 levels of nesting)");
    let left = term();
    while (isPunct("+") || isPunct("-")) {
      const op = (tokens[pos++] as { value: "+" | "-" }).value;
      left = { kind: "binary", op, left, right: term() };
    }
    depth -= 1;
    return left;
  };
  const term = (): ObjectiveNode => {
    let left = unary();
    while (isPunct("*") || isPunct("/")) {
      const op = (tokens[pos++] as { value: "*" | "/" }).value;
      left = { kind: "binary", op, left, right: unary() };
    }
    return left;
  };
  const unary = (): ObjectiveNode => {
    if (isPunct("-")) {
      pos += 1;
      return { kind: "neg", arg: unary() };
    }
    if (isPunct("+")) {
      pos += 1;
      return unary();
    }
    return primary();
  };
  const primary = (): ObjectiveNode => {
    const t = peek();
    if (t?.kind === "number") {
      pos += 1;
      return { kind: "number", value: t.value };
    }
    if (isPunct("(")) {
      pos += 1;
      const inner = expr();
      expect(")");
      return inner;
    }
    if (t?.kind !== "name") return fail('a number, a metric (step.metrics["name"]) or "("');
    pos += 1;
    if (isPunct("(")) {
      if (!(OBJECTIVE_FUNCTIONS as readonly string[]).includes(t.value)) {
        throw new ObjectiveSyntaxError(`unknown function "${t.value}" at ${t.at + 1} (functions: ${OBJECTIVE_FUNCTIONS.join(", ")})`, t.at);
      }
      pos += 1;
      const args = [expr()];
      while (isPunct(",")) {
        pos += 1;
        args.push(expr());
      }
      expect(")");
      if (t.value === "abs" && args.length !== 1) throw new ObjectiveSyntaxError(`abs() takes one argument, got ${args.length}`, t.at);
      return { kind: "call", fn: t.value as FunctionName, args };
    }
    expect(".");
    const field = peek();
    if (field?.kind !== "name" || field.value !== "metrics") fail(`"metrics" after step "${t.value}."`);
    pos += 1;
    if (isPunct("[")) {
      pos += 1;
      const name = peek();
      if (name?.kind !== "string") fail("a quoted metric name");
      pos += 1;
      expect("]");
      return { kind: "metric", ref: { step: t.value, metric: (name as { value: string }).value } };
    }
    expect(".");
    const name = peek();
    if (name?.kind !== "name") fail('a metric name (or ["name/with/slashes"])');
    pos += 1;
    return { kind: "metric", ref: { step: t.value, metric: (name as { value: string }).value } };
  };

  if (tokens.length === 0) fail("an expression");
  const tree = expr();
  if (pos < tokens.length) fail("an operator or the end");
  return tree;
}

/** Every metric the expression reads, once each, in order of appearance. */
export function metricRefs(node: ObjectiveNode): MetricRef[] {
  const out: MetricRef[] = [];
  const seen = new Set<string>();
  const walk = (n: ObjectiveNode): void => {
    if (n.kind === "metric") {
      const key = `${n.ref.step}\0${n.ref.metric}`;
      if (!seen.has(key)) out.push(n.ref);
      seen.add(key);
    } else if (n.kind === "neg") walk(n.arg);
    else if (n.kind === "binary") {
      walk(n.left);
      walk(n.right);
    } else if (n.kind === "call") n.args.forEach(walk);
  };
  walk(node);
  return out;
}

/** What evaluating gave: a finite number, or why there is none. */
export type ObjectiveValue = { ok: true; value: number } | { ok: false; reason: string };

/** Evaluates the tree on a run's metrics (by step). A missing metric or a non-finite result is a reason, not a throw. */
export function evaluateObjective(node: ObjectiveNode, metrics: Readonly<Record<string, Readonly<Record<string, number>> | undefined>>): ObjectiveValue {
  const missing = metricRefs(node).filter((r) => typeof metrics[r.step]?.[r.metric] !== "number");
  if (missing.length > 0) {
    const why = missing.map((r) => {
      const known = Object.keys(metrics[r.step] ?? {});
      return `step "${r.step}" reported no metric "${r.metric}"${known.length > 0 ? ` (it reported: ${known.slice(0, 8).join(", ")}${known.length > 8 ? ", …" : ""})` : metrics[r.step] ? " (it reported no metrics)" : ""}`;
    });
    return { ok: false, reason: `objective missing: ${why.join("; ")}` };
  }
  const value = evaluate(node, metrics);
  if (!Number.isFinite(value)) return { ok: false, reason: `objective is not a finite number (${value})` };
  return { ok: true, value };
}

function evaluate(node: ObjectiveNode, metrics: Readonly<Record<string, Readonly<Record<string, number>> | undefined>>): number {
  switch (node.kind) {
    case "number":
      return node.value;
    case "metric":
      return metrics[node.ref.step]![node.ref.metric]!;
    case "neg":
      return -evaluate(node.arg, metrics);
    case "binary": {
      const a = evaluate(node.left, metrics);
      const b = evaluate(node.right, metrics);
      return node.op === "+" ? a + b : node.op === "-" ? a - b : node.op === "*" ? a * b : a / b;
    }
    case "call": {
      const args = node.args.map((a) => evaluate(a, metrics));
      if (node.fn === "min") return Math.min(...args);
      if (node.fn === "max") return Math.max(...args);
      if (node.fn === "abs") return Math.abs(args[0]!);
      return args.reduce((s, v) => s + v, 0) / args.length;
    }
  }
}
