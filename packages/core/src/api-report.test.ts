import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without declarations (run by node, imported here).
import { REPORT_FILE, renderReport } from "../scripts/api-report.mjs";

describe("public API report (etc/core.api.md)", () => {
  it("matches the API the build exports; after a deliberate change run scripts/api-report.mjs", async () => {
    const expected = await readFile(REPORT_FILE, "utf8");
    const actual = (renderReport as () => string)();
    // toBe prints a line diff: the lines that changed are the API that changed.
    expect(
      actual,
      "the public API of @strata/core changed: if deliberate, run `npx tsc -b packages/core && node packages/core/scripts/api-report.mjs` and commit etc/core.api.md (a contract change may also need DRIVER_CONTRACT_VERSION bumped)",
    ).toBe(expected);
  });
});
