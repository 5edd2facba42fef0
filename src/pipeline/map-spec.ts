/**
 * Map steps: a step run once per element — over named axes (their cartesian product, e.g.
 * `{ seed: [0, 1], chunk: "range(4)" }` gives 8 elements) or over a list of items. Each element is
 * a step of its own at run time (`gen[3]`: its own attempts, logs, retries, cache entry); the map
 * step itself settles once every element is final, succeeding when at least `minSuccess` did.
 *
 * @module
 */
import { z } from "zod";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
/** A value an axis or item field takes. */
export type ItemScalar = z.infer<typeof Scalar>;

/** The most elements one map step may have. */
export const MAX_MAP_ELEMENTS = 100_000;

/** Axis names `${item.<axis>}` can use; `index` is the element's own index. */
const AxisName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be letters, digits, "_" or "-", starting with a letter or "_"')
  .refine((name) => name !== "index", { message: '"index" is reserved (${item.index} is the element\'s index)' });

/** `range(stop)`, `range(start, stop)` or `range(start, stop, step)`, as Python's `range`. */
export function parseRange(text: string): number[] | undefined {
  const match = /^\s*range\(\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*)?(?:,\s*(-?\d+)\s*)?\)\s*$/.exec(text);
  if (!match) return undefined;
  const [start, stop, step] = match[2] === undefined ? [0, Number(match[1]), 1] : [Number(match[1]), Number(match[2]), Number(match[3] ?? 1)];
  if (step === 0) return undefined;
  const values: number[] = [];
  for (let v = start; step > 0 ? v < stop : v > stop; v += step) {
    values.push(v);
    if (values.length > MAX_MAP_ELEMENTS) break;
  }
  return values;
}

/** `range(4)` → `[0, 1, 2, 3]` (as Python's `range`): for axes in the API. */
export function range(startOrStop: number, stop?: number, step = 1): number[] {
  const values = parseRange(stop === undefined ? `range(${startOrStop})` : `range(${startOrStop}, ${stop}, ${step})`);
  if (!values) throw new RangeError(`range(${startOrStop}, ${stop}, ${step}): integers with a non-zero step are expected`);
  return values;
}

/** A list of map items: scalars, or objects of scalars. */
export const ItemsSchema = z.array(z.union([Scalar, z.record(AxisName, Scalar)]));

const AxisValues = z.union([
  z.array(Scalar).min(1, "an axis needs at least one value"),
  z.string().transform((text, ctx) => {
    const values = parseRange(text);
    if (values === undefined || values.length === 0) {
      ctx.addIssue({ code: "custom", message: `${JSON.stringify(text)} is not a list nor a non-empty range(…) such as "range(4)" or "range(1, 9, 2)"` });
      return z.NEVER;
    }
    return values;
  }),
]);

/** A map step's `map`: axes or items, and its caps. */
export const MapSpecSchema = z
  .strictObject({
    /** Named axes; the step runs once per combination (cartesian product, last axis fastest). */
    axes: z.record(AxisName, AxisValues).optional(),
    /** A list of items: scalars (`${item}`) or objects of scalars (`${item.<key>}`). */
    items: ItemsSchema.min(1, "items needs at least one item").optional(),
    /**
     * Items a parent produces: `${list.artifacts.<name>.url}`, a JSON file holding the list (as
     * `items`). The elements are made when that step has succeeded (and journaled, so a resume
     * makes the same ones).
     */
    itemsFrom: z.string().min(1).optional(),
    /** Most elements of this map running at once (Slurm: the array's `%K`). */
    maxParallel: z.number().int().min(1).optional(),
    /**
     * How many elements must succeed for the map to succeed: a fraction in (0, 1] (`0.9`; `1`
     * means all) or a count above 1 (`60`). Default: all.
     */
    minSuccess: z
      .number()
      .positive()
      .refine((n) => n <= 1 || Number.isInteger(n), { message: "a fraction in (0, 1] or a whole count above 1" })
      .optional(),
  })
  .superRefine((map, ctx) => {
    if ([map.axes, map.items, map.itemsFrom].filter((x) => x !== undefined).length !== 1) ctx.addIssue({ code: "custom", message: "give one of axes, items or itemsFrom" });
    if (map.axes && Object.keys(map.axes).length === 0) ctx.addIssue({ code: "custom", path: ["axes"], message: "needs at least one axis" });
  });
/** A map step's `map`, as validated. */
export type MapSpec = z.infer<typeof MapSpecSchema>;
/** A map step's `map`, as written. */
export type MapInput = z.input<typeof MapSpecSchema>;

/** One element of a map step. */
export interface MapElement {
  /** 0-based, in the map's order. */
  index: number;
  /** The step name the element runs as: `gen[3]`. */
  key: string;
  /** Axis values (axes), the item's fields (object items), or the item itself (scalar items). */
  item: ItemScalar | Readonly<Record<string, ItemScalar>>;
  /** For people: `gen[seed=0,chunk=1]`, `gen[3]` for scalar items. */
  label: string;
}

/** The step name of element `index` of map `step`. */
export function elementKey(step: string, index: number): string {
  return `${step}[${index}]`;
}

/** The elements of map `step`, in order; throws a RangeError past {@link MAX_MAP_ELEMENTS}. */
export function mapElements(step: string, map: Pick<MapSpec, "items" | "axes">): MapElement[] {
  if (!map.items && !map.axes) return []; // itemsFrom: made at run time
  if (map.items) {
    return map.items.map((item, index) => ({ index, key: elementKey(step, index), item, label: typeof item === "object" ? labelOf(step, item) : `${step}[${index}]` }));
  }
  const axes = Object.entries(map.axes ?? {});
  const total = axes.reduce((n, [, values]) => n * values.length, 1);
  if (total > MAX_MAP_ELEMENTS) throw new RangeError(`${total} elements, more than the ${MAX_MAP_ELEMENTS} a map step may have`);
  const elements: MapElement[] = [];
  for (let index = 0; index < total; index++) {
    const item: Record<string, ItemScalar> = {};
    let rest = index;
    for (let a = axes.length - 1; a >= 0; a--) {
      const [name, values] = axes[a]!;
      item[name] = values[rest % values.length]!;
      rest = Math.floor(rest / values.length);
    }
    const ordered = Object.fromEntries(axes.map(([name]) => [name, item[name]!]));
    elements.push({ index, key: elementKey(step, index), item: ordered, label: labelOf(step, ordered) });
  }
  return elements;
}

function labelOf(step: string, item: Readonly<Record<string, ItemScalar>>): string {
  return `${step}[${Object.entries(item)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(",")}]`;
}

/** The count of elements that must succeed, out of `total`. */
export function requiredSuccesses(map: Pick<MapSpec, "minSuccess">, total: number): number {
  const min = map.minSuccess ?? 1;
  return min <= 1 ? Math.ceil(min * total - 1e-9) : Math.min(min, total);
}

/** The names `${item.<name>}` may use in a map: its axes, or the fields every object item has. */
export function itemFieldsOf(map: MapSpec): string[] | undefined {
  if (map.axes) return Object.keys(map.axes);
  if (map.itemsFrom !== undefined) return undefined;
  const items = map.items ?? [];
  if (items.every((i) => typeof i !== "object")) return undefined; // scalar items: ${item}
  const objects = items.filter((i): i is Record<string, ItemScalar> => typeof i === "object");
  return Object.keys(objects[0] ?? {}).filter((k) => objects.every((o) => k in o));
}

/** On a map step's plan entry: its elements (steps of their own) and how many must succeed. */
export interface PlannedMap {
  elements: readonly MapElement[];
  /** Successes needed for the map to succeed. */
  required: number;
  /** Most elements running at once, when capped. */
  maxParallel?: number;
  /** The axes (or item fields) elements are told apart by; empty for scalar items. */
  fields: readonly string[];
  /** `itemsFrom`: the elements are made at run time from this placeholder's list (none until then). */
  source?: string;
}

/** On an element's plan entry: which map it belongs to. */
export interface PlannedElement {
  map: string;
  index: number;
  label: string;
  item: MapElement["item"];
  /** The map's `maxParallel`, when set. */
  throttle?: number;
}
