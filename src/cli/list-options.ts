/**
 * Repeatable options that also take comma lists: `--tag a --tag b` and `--tag a,b` mean the same.
 *
 * @module
 */

/** The values of a repeatable option, comma lists split, blanks dropped, order kept. */
export function parseList(values: readonly string[] | undefined): string[] {
  return [
    ...new Set(
      (values ?? [])
        .flatMap((v) => v.split(","))
        .map((v) => v.trim())
        .filter(Boolean),
    ),
  ];
}
