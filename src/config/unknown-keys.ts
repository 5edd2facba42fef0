/**
 * "Did you mean" for unknown keys in zod-validated data: zod's `unrecognized_keys` issue names the
 * key but not the keys that were expected, so this walks the schema along the path to
 * find them.
 *
 * @module
 */
import type { z } from "zod";
import { didYouMean } from "../args/did-you-mean.js";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  values?: unknown[];
}

const defOf = (schema: z.ZodType | undefined): Def | undefined => (schema as unknown as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The object keys `schema` accepts at `path` inside `data`, or `[]` when that is not an object schema. */
export function knownKeysAt(schema: z.ZodType, data: unknown, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  let value: unknown = data;
  for (let i = 0; ; ) {
    const def = defOf(current);
    if (!def) return [];
    if (def.innerType) current = def.innerType;
    // A pipe: its input schema, unless that is a preprocess transform (then the schema after it).
    else if (def.type === "pipe") current = defOf(def.in)?.type === "transform" ? def.out : def.in;
    else if (def.type === "union" && def.options) {
      // The options whose literal fields (e.g. a discriminator) match the data, else all of them.
      const objects = def.options.filter((o) => defOf(o)?.shape);
      const matching = objects.filter((o) =>
        Object.entries(defOf(o)!.shape!).every(([k, field]) => {
          const f = defOf(field);
          const v = (value as Record<string, unknown> | undefined)?.[k];
          return f?.type !== "literal" || v === undefined || (f.values ?? []).includes(v);
        }),
      );
      if (i === path.length) return [...new Set((matching.length > 0 ? matching : objects).flatMap((o) => Object.keys(defOf(o)!.shape!)))];
      current = matching[0] ?? objects[0];
    } else if (i === path.length) return def.shape ? Object.keys(def.shape) : [];
    else {
      const key = path[i++]!;
      value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
      if (def.shape) current = def.shape[String(key)];
      else if (def.type === "array") current = def.element;
      else if (def.type === "record") current = def.valueType;
      else return [];
    }
  }
}

/** ` (did you mean "x"?)` for an unknown `key` at `path`, or `""`. */
export function unknownKeyHint(schema: z.ZodType, data: unknown, path: readonly PropertyKey[], key: string): string {
  const hint = didYouMean(key, knownKeysAt(schema, data, path));
  return hint ? ` (did you mean "${hint}"?)` : "";
}
