import type { Writable } from "node:stream";
import type { ImageStore } from "@strata/core";
import { MultiError } from "../errors.js";
import { inspectJson } from "../format/inspect-json.js";

/**
 * Shared body of `inspect` and `image inspect`: inspect every name, print the found ones
 * as one JSON array (`[]` when none), then fail with one error per name that did not
 * resolve, as docker does. `onError` rewords an error (`No such object: x`).
 */
export async function inspectImages(
  stdout: Writable,
  images: ImageStore,
  names: readonly string[],
  onError: (err: Error, name: string) => Error,
): Promise<void> {
  const found: unknown[] = [];
  const errors: Error[] = [];
  for (const name of names) {
    try {
      found.push(await images.inspect(name));
    } catch (err) {
      errors.push(onError(err instanceof Error ? err : new Error(String(err)), name));
    }
  }
  stdout.write(inspectJson(found));
  if (errors.length > 0) throw new MultiError(errors);
}
