import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Differ,
  DRIVER_CONTRACT_VERSION,
  type DriverModule,
  ImageStore,
  InvalidArgumentError,
  NaiveDiffer,
  NotSupportedError,
  type Snapshotter,
  StoreService,
  Tokens,
} from "@strata/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Composition, createContainer } from "./container.js";

/** A driver module for composition tests: binds a do-nothing snapshotter (and maybe a differ). */
function fakeDriver(
  name: string,
  priority: number,
  opts: { supported?: boolean; differ?: Differ } = {},
) {
  const registered: string[] = [];
  const module: DriverModule = {
    name,
    contractVersion: DRIVER_CONTRACT_VERSION,
    priority,
    async probe() {
      if (opts.supported === false) throw new NotSupportedError(`${name}: not here`);
    },
    register(container, ctx) {
      registered.push(ctx.root);
      const snapshotter = {
        name,
        walk: async () => {},
        close: async () => {},
      } as unknown as Snapshotter;
      container.register(Tokens.Snapshotter, { useValue: snapshotter });
      if (opts.differ) container.register(Tokens.Differ, { useValue: opts.differ });
    },
  };
  return { module, registered };
}

describe("createContainer", () => {
  let root: string;
  const open: Composition[] = [];
  const compose = async (...args: Parameters<typeof createContainer>) => {
    const c = await createContainer(...args);
    open.push(c);
    return c;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "strata-cli-container-"));
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it("registers the first supported driver by priority and core's naive differ", async () => {
    const a = fakeDriver("a", 100, { supported: false });
    const b = fakeDriver("b", 200);
    const c = fakeDriver("c", 300);
    const comp = await compose({ root, drivers: [c.module, a.module, b.module] });
    expect(comp.driver.name).toBe("b");
    expect(b.registered).toEqual([join(root, "b")]);
    expect(comp.driverContext).toMatchObject({ name: "b", storeRoot: root, root: join(root, "b") });
    expect(comp.container.resolve(Tokens.Differ)).toBeInstanceOf(NaiveDiffer);
    expect(comp.container.resolve(Tokens.Differ)).toBe(comp.container.resolve(Tokens.Differ));
    expect(comp.container.resolve(Tokens.StoreRoot)).toBe(root);
  });

  it("keeps a differ the driver bound", async () => {
    const differ = { diff: async () => ({}), apply: async () => ({}) } as unknown as Differ;
    const d = fakeDriver("d", 100, { differ });
    const comp = await compose({ root, drivers: [d.module] });
    expect(comp.container.resolve(Tokens.Differ)).toBe(differ);
  });

  it("shares one instance of each core service (one database handle)", async () => {
    const comp = await compose({ root, drivers: [fakeDriver("a", 100).module] });
    expect(comp.container.resolve(ImageStore)).toBe(comp.container.resolve(ImageStore));
    expect(comp.container.resolve(StoreService)).toBe(comp.container.resolve(StoreService));
    expect((await comp.container.resolve(StoreService).info()).driver).toBe("a");
  });

  it("uses the driver this store used last when none is requested", async () => {
    const drivers = [fakeDriver("a", 100).module, fakeDriver("b", 200).module];
    const first = await compose({ root, drivers, storageDriver: "b" });
    await first.dispose();
    expect((await compose({ root, drivers })).driver.name).toBe("b");
  });

  it("rejects an unknown driver, listing the known ones", async () => {
    const drivers = [fakeDriver("b", 200).module, fakeDriver("a", 100).module];
    const err = await compose({ root, drivers, storageDriver: "zz" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe('unknown storage driver "zz" (available: a, b)');
  });

  it("reports a requested driver's probe failure", async () => {
    const drivers = [
      fakeDriver("a", 100, { supported: false }).module,
      fakeDriver("b", 200).module,
    ];
    await expect(compose({ root, drivers, storageDriver: "a" })).rejects.toThrow("a: not here");
  });

  it("fails with every reason when no driver works", async () => {
    const drivers = [fakeDriver("a", 100, { supported: false }).module];
    await expect(compose({ root, drivers })).rejects.toBeInstanceOf(NotSupportedError);
  });
});
