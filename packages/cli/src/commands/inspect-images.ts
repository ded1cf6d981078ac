import type { Writable } from "node:stream";
import type { ImageStore } from "@strata/core";
import { MultiError } from "../errors.js";
import { renderInspect } from "../format/inspect-format.js";

/**
 * Shared body of `inspect` and `image inspect`: inspect every name, print the found ones
 * (one JSON array, `[]` when none, or `format` per object), then fail with one error per
 * name that did not resolve or whose template failed, as docker does. `onError` rewords a
 * lookup error (`No such object: x`).
 * @throws TemplateFormatError before printing anything when `format` does not parse.
 */
export async function inspectImages(
  stdout: Writable,
  images: Pick<ImageStore, "inspect"> | { inspect(name: string): Promise<unknown> },
  names: readonly string[],
  onError: (err: Error, name: string) => Error,
  format = "",
): Promise<void> {
  const found: unknown[] = [];
  const results: ({ doc: number } | { error: Error })[] = [];
  for (const name of names) {
    try {
      found.push(await images.inspect(name));
      results.push({ doc: found.length - 1 });
    } catch (err) {
      results.push({ error: onError(err instanceof Error ? err : new Error(String(err)), name) });
    }
  }
  const out = await renderInspect(found, format);
  stdout.write(out.text);
  // One error per name, in the order the names were given (docker's order).
  const errors = results
    .map((r) => ("error" in r ? r.error : out.errors[r.doc]))
    .filter((e): e is Error => e !== undefined);
  if (errors.length > 0) throw new MultiError(errors);
}
