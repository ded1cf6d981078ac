import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { LayerChange } from "@strata/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { aufsBranchChanges, rootIsOpaque } from "./aufs-changes.js";

describe("aufsBranchChanges: a branch read as a layer's changes", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "strata-aufs-changes-"));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it("turns .wh. files into deletions and opaque markers into opaque changes, parents first, in the order of the names they are about", async () => {
    const put = async (p: string, content = "") => {
      await fs.mkdir(path.dirname(path.join(dir, p)), { recursive: true });
      await fs.writeFile(path.join(dir, p), content);
    };
    await put("etc/passwd", "root\n");
    await put("etc/.wh.shadow");
    await put(".wh.gone");
    await put("d/.wh..wh..opq");
    await put("d/new", "n");
    await put(".wh..wh.plnk/ignored"); // AUFS's bookkeeping
    await fs.symlink("passwd", path.join(dir, "etc/link"));
    const changes: LayerChange[] = [];
    for await (const c of aufsBranchChanges(dir)) changes.push(c);
    expect(changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      "add d",
      "opaque d",
      "add d/new",
      "add etc",
      "add etc/link",
      "add etc/passwd",
      "delete etc/shadow",
      "delete gone",
    ]);
    expect(changes.find((c) => c.path === "etc/link")?.linkTarget).toBe("passwd");
    expect(rootIsOpaque(dir)).toBe(false);
  });
});
