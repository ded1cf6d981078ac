import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import {
  AlreadyExistsError,
  DRIVER_CONTRACT_VERSION,
  NaiveDiffer,
  NotFoundError,
  rootContainer,
  Tokens,
} from "@strata/core";
import { differSuite, type HarnessFactory, snapshotterSuite } from "@strata/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { vfsDriver } from "./vfs-driver.js";
import { VfsSnapshotter } from "./vfs-snapshotter.js";

// vfs has no native differ: core's naive differ is its differ.
const factory: HarnessFactory = async ({ root, contentStore, mountManager }) => {
  const snapshotter = new VfsSnapshotter(root);
  const differ = new NaiveDiffer(contentStore, mountManager);
  return { snapshotter, differ, cleanup: () => snapshotter.close() };
};

describe("vfs: snapshotter conformance", () => snapshotterSuite(it, factory));
describe("vfs: differ conformance (naive differ)", () => differSuite(it, factory));

describe("vfs: driver specifics", () => {
  let root: string;
  let sn: VfsSnapshotter;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-vfs-"));
    sn = new VfsSnapshotter(root);
  });
  afterEach(async () => {
    await sn.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("registers a VfsSnapshotter once per container and probes OK anywhere", async () => {
    expect(vfsDriver).toMatchObject({ name: "vfs", priority: 300 });
    expect(vfsDriver.contractVersion).toBe(DRIVER_CONTRACT_VERSION);
    const ctx = { name: "vfs", storeRoot: root, root: path.join(root, "vfs"), options: {} };
    await expect(vfsDriver.probe(ctx)).resolves.toBeUndefined();
    const container = rootContainer.createChildContainer();
    vfsDriver.register(container, ctx);
    const registered = container.resolve(Tokens.Snapshotter);
    expect(registered).toBeInstanceOf(VfsSnapshotter);
    expect(() => vfsDriver.register(container, ctx)).toThrow(AlreadyExistsError);
    expect(rootContainer.isRegistered(Tokens.Snapshotter)).toBe(false);
    await registered.close();
  });

  it("copies on prepare, but a view binds its committed parent read-only", async () => {
    const [active] = await sn.prepare("a");
    await fs.writeFile(path.join(active!.source, "f"), "f");
    await sn.commit("base", "a");
    const [view] = await sn.view("v", "base");
    expect(view).toEqual({ type: "bind", source: active!.source, options: ["rbind", "ro"] });
    const [child] = await sn.prepare("c", "base");
    expect(child!.source).not.toBe(active!.source);
    expect(child!.options).toEqual(["rbind", "rw"]);
    expect(await fs.readFile(path.join(child!.source, "f"), "utf8")).toBe("f");
  });

  it("a failed copy leaves no record and no directory", async () => {
    const [active] = await sn.prepare("a");
    await sn.commit("base", "a");
    await fs.rm(active!.source, { recursive: true }); // the parent's tree is gone
    await expect(sn.prepare("c", "base")).rejects.toThrow(/cp /);
    await expect(sn.stat("c")).rejects.toThrow(NotFoundError);
    expect(await fs.readdir(path.join(root, "staging"))).toEqual([]);
    await sn.remove("base");
  });

  it("cleanup deletes directories left by crashed processes and nothing else", async () => {
    const [active] = await sn.prepare("a");
    await fs.mkdir(path.join(root, "snapshots", "999999"));
    await fs.mkdir(path.join(root, "staging", "2147483646-7-dead"));
    await fs.mkdir(path.join(root, "removing", "2147483646-8-dead"));
    await fs.mkdir(path.join(root, "staging", `${process.pid}-9-mine`));
    expect(await sn.cleanup()).toBe(3);
    expect(await fs.readdir(path.join(root, "snapshots"))).toEqual([path.basename(active!.source)]);
    expect(await fs.readdir(path.join(root, "staging"))).toEqual([`${process.pid}-9-mine`]);
    expect(await fs.readdir(path.join(root, "removing"))).toEqual([]);
  });
});
