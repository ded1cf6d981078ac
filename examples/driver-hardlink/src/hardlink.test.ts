import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { NaiveDiffer } from "@strata/core";
import { differSuite, type HarnessFactory, snapshotterSuite } from "@strata/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { driver } from "./hardlink-driver.js";
import { HardlinkSnapshotter } from "./hardlink-snapshotter.js";

// No native differ: core's naive differ is this driver's differ.
const factory: HarnessFactory = async ({ root, contentStore, mountManager }) => {
  const snapshotter = new HardlinkSnapshotter(root);
  const differ = new NaiveDiffer(contentStore, mountManager);
  return { snapshotter, differ, cleanup: () => snapshotter.close() };
};

describe("hardlink: snapshotter conformance", () => snapshotterSuite(it, factory));
describe("hardlink: differ conformance (naive differ)", () => differSuite(it, factory));

describe("hardlink: driver specifics", () => {
  let root: string;
  let sn: HardlinkSnapshotter;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-hardlink-"));
    sn = new HardlinkSnapshotter(root);
  });
  afterEach(async () => {
    await sn.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const dirOf = async (key: string) => {
    const [m] = await sn.mounts(key);
    if (!m) throw new Error(`no mount for ${key}`);
    return m.source;
  };

  it("is a driver module of this contract whose probe passes on a local filesystem", async () => {
    expect(driver).toMatchObject({ name: "hardlink", contractVersion: 1, priority: 250 });
    await driver.probe({
      name: "hardlink",
      storeRoot: root,
      root: path.join(root, "d"),
      options: {},
    });
  });

  it("a committed child shares its unchanged files with its parent and owns only its changes", async () => {
    const base = await dirOf(await sn.prepare("a").then(() => "a"));
    await fs.writeFile(path.join(base, "same"), "x".repeat(100_000));
    await fs.writeFile(path.join(base, "edited"), "old");
    await fs.writeFile(path.join(base, "retimed"), "t");
    await sn.commit("base", "a");
    await sn.prepare("b", "base");
    const child = await dirOf("b");
    // An active snapshot's files are its own: nothing is shared before commit.
    expect((await fs.stat(path.join(child, "same"))).nlink).toBe(1);
    await fs.writeFile(path.join(child, "edited"), "new");
    await fs.utimes(path.join(child, "retimed"), 1_000_000, 1_000_000);
    await fs.writeFile(path.join(child, "added"), "+");
    await sn.commit("top", "b");

    const view = await sn.view("v", "base").then(() => dirOf("v"));
    const top = await sn.view("w", "top").then(() => dirOf("w"));
    const ino = async (d: string, f: string) => (await fs.stat(path.join(d, f))).ino;
    expect(await ino(top, "same")).toBe(await ino(view, "same"));
    expect(await ino(top, "edited")).not.toBe(await ino(view, "edited"));
    expect(await ino(top, "retimed")).not.toBe(await ino(view, "retimed"));
    expect(await fs.readFile(path.join(top, "edited"), "utf8")).toBe("new");
    expect(await fs.readFile(path.join(view, "edited"), "utf8")).toBe("old");
    const usage = await sn.usage("top");
    expect(usage.size).toBeLessThan(100_000);
    expect(usage.inodes).toBe(4); // the root, edited, retimed, added
  });

  it("a container writing to a shared file never changes the committed snapshots", async () => {
    const a = await sn.prepare("a").then(() => dirOf("a"));
    await fs.writeFile(path.join(a, "f"), "original");
    await sn.commit("base", "a");
    const b = await sn.prepare("b", "base").then(() => dirOf("b"));
    await sn.commit("mid", "b"); // f is now one inode in base and mid
    const c = await sn.prepare("c", "mid").then(() => dirOf("c"));
    await fs.writeFile(path.join(c, "f"), "changed in place");
    await fs.appendFile(path.join(c, "f"), "!");
    const base = await sn.view("vb", "base").then(() => dirOf("vb"));
    const mid = await sn.view("vm", "mid").then(() => dirOf("vm"));
    expect(await fs.readFile(path.join(base, "f"), "utf8")).toBe("original");
    expect(await fs.readFile(path.join(mid, "f"), "utf8")).toBe("original");
    expect(await fs.readFile(path.join(c, "f"), "utf8")).toBe("changed in place!");
    expect(b).not.toBe(c);
  });

  it("keeps hardlink groups inside a layer as they were", async () => {
    const a = await sn.prepare("a").then(() => dirOf("a"));
    await fs.writeFile(path.join(a, "x"), "same");
    await fs.link(path.join(a, "x"), path.join(a, "y"));
    await sn.commit("base", "a");
    const b = await sn.prepare("b", "base").then(() => dirOf("b"));
    // Break the group in the child: x and y become two files with the parent's bytes.
    const st = await fs.stat(path.join(b, "x"));
    await fs.rm(path.join(b, "y"));
    await fs.copyFile(path.join(b, "x"), path.join(b, "y"));
    await fs.utimes(path.join(b, "y"), st.atime, st.mtime);
    await sn.commit("top", "b");
    const top = await sn.view("v", "top").then(() => dirOf("v"));
    const [x, y] = await Promise.all(["x", "y"].map((f) => fs.stat(path.join(top, f))));
    expect(x?.ino).not.toBe(y?.ino);
  });
});

describe("hardlink: verify", () => {
  it("reports a snapshot whose directory went missing and a directory no record owns", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-hardlink-"));
    const sn = new HardlinkSnapshotter(root);
    try {
      await sn.prepare("a");
      await sn.commit("base", "a");
      await sn.view("v", "base");
      expect(await sn.verify()).toEqual([]);
      const [m] = await sn.mounts("v");
      await fs.rename(m?.source ?? "", path.join(root, "snapshots", "999"));
      const problems = await sn.verify();
      expect(problems).toHaveLength(2);
      expect(problems.join("\n")).toContain('snapshot "base" (committed)');
      expect(problems.join("\n")).toContain("no snapshot record owns it");
    } finally {
      await sn.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
