import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDockerfile } from "../dockerfile/dockerfile-parser.js";
import type { CopyInstruction } from "../dockerfile/dockerfile-types.js";
import { createShellWordExpander } from "../dockerfile/shell-word-expander.js";
import { SourceTree } from "./build-context.js";
import { CopyPlan } from "./copy-step.js";

let tmp: string;
let ctx: string;
let rootfs: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "strata-copy-test-"));
  ctx = path.join(tmp, "ctx");
  rootfs = path.join(tmp, "rootfs");
  fs.mkdirSync(path.join(ctx, "dir/sub"), { recursive: true });
  fs.writeFileSync(path.join(ctx, "a.txt"), "a");
  fs.writeFileSync(path.join(ctx, "b.txt"), "b");
  fs.writeFileSync(path.join(ctx, "dir/sub/c.txt"), "c");
  fs.symlinkSync("a.txt", path.join(ctx, "link.txt"));
  fs.mkdirSync(path.join(rootfs, "etc"), { recursive: true });
  fs.mkdirSync(path.join(rootfs, "existing"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Plan and apply one COPY line (WORKDIR `workdir`) onto `rootfs`. */
async function copy(line: string, workdir = "/"): Promise<CopyPlan> {
  const instr = parseDockerfile(`FROM scratch\n${line}\n`).stages[0]!
    .instructions[0] as CopyInstruction;
  const plan = await CopyPlan.plan(
    instr,
    new SourceTree(ctx),
    new Map(),
    createShellWordExpander(),
    workdir,
  );
  try {
    await plan.apply(rootfs);
  } finally {
    plan.dispose();
  }
  return plan;
}

const read = (p: string) => fs.readFileSync(path.join(rootfs, p), "utf8");

describe("CopyPlan: docker's COPY destination rules, written through the guarded applier", () => {
  it("a file to a new path, into an existing directory, and into a path ending in /", async () => {
    await copy("COPY a.txt /new/name");
    expect(read("new/name")).toBe("a");
    await copy("COPY a.txt /existing");
    expect(read("existing/a.txt")).toBe("a");
    await copy("COPY b.txt made/", "/work");
    expect(read("work/made/b.txt")).toBe("b");
  });

  it("a directory's contents, not the directory itself; wildcards; a symlink keeps its name", async () => {
    await copy("COPY dir /d");
    expect(read("d/sub/c.txt")).toBe("c");
    await copy("COPY *.txt /glob/");
    expect(fs.readdirSync(path.join(rootfs, "glob")).sort()).toEqual([
      "a.txt",
      "b.txt",
      "link.txt",
    ]);
    await copy("COPY link.txt /l/");
    expect(read("l/link.txt")).toBe("a");
  });

  it("owners become root, or --chown's; --chmod sets the mode", async () => {
    const plan = await copy("COPY --chown=7:8 --chmod=640 a.txt /owned");
    const st = fs.statSync(path.join(rootfs, "owned"));
    if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([7, 8]);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(plan.comment).toMatch(/^COPY file:[0-9a-f]{64} in \/owned $/);
  });

  it("never writes outside the tree: a destination symlink is followed inside it", async () => {
    const outside = path.join(tmp, "outside");
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(rootfs, "escape"));
    fs.symlinkSync("../../..", path.join(rootfs, "etc/up"));
    await copy("COPY a.txt /escape/");
    await copy("COPY b.txt /etc/up/b.txt");
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(read(path.join(outside, "a.txt").replace(/^\//, ""))).toBe("a"); // the same path, inside
    expect(read("b.txt")).toBe("b");
  });

  it("refuses sources outside the context and several sources without a directory", async () => {
    await expect(copy("COPY ../x /x")).rejects.toThrow("Forbidden path outside the build context");
    await expect(copy("COPY nothere /x")).rejects.toThrow(
      "file not found in build context or excluded by .dockerignore: stat nothere: file does not exist",
    );
    await expect(copy("COPY a.txt b.txt /x")).rejects.toThrow(
      "the destination must be a directory and end with a /",
    );
  });
});
