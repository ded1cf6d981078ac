import type { FilterArgs } from "@strata/core";
import { UsageError } from "clipanion";

/**
 * Parse `-f/--filter key=value` flag values into core's {@link FilterArgs}, failing as
 * docker's flag parser does (usage error, exit 125):
 * `invalid argument "x" for "-f, --filter" flag: bad format of filter (expected name=value)`.
 */
export async function parseFilterFlag(
  values: readonly string[],
  flag = "-f, --filter",
): Promise<FilterArgs> {
  const { FilterArgs } = await import("@strata/core");
  for (const v of values) {
    if (v !== "" && !v.includes("=")) {
      throw new UsageError(
        `invalid argument "${v}" for "${flag}" flag: bad format of filter (expected name=value)`,
      );
    }
  }
  return FilterArgs.parse(values);
}
