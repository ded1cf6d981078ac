import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findDrivers, PLUGIN_PACKAGES_SETTING } from "./driver-catalog.js";
import { configuredDrivers, locatePackage, searchDirs } from "./driver-plugins.js";

/** A package directory `dir/name` with an ESM index.js of `source`. */
async function pkg(dir: string, name: string, source: string): Promise<string> {
  const p = join(dir, name);
  await mkdir(p, { recursive: true });
  await writeFile(
    join(p, "package.json"),
    JSON.stringify({ name, type: "module", main: "index.js" }),
  );
  await writeFile(join(p, "index.js"), source);
  return p;
}

const driverSource = (name: string, version = 1) =>
  `export default { name: ${JSON.stringify(name)}, contractVersion: ${version}, priority: 10, async probe() {}, register() {} };\n`;

describe("driver plugins: finding packages", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-plugins-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("reads <root>/config.json: none without the file, a clear error for a bad one", async () => {
    expect(await configuredDrivers(dir)).toEqual([]);
    await writeFile(join(dir, "config.json"), '{"drivers": ["a", "./b"], "other": 1}');
    expect(await configuredDrivers(dir)).toEqual(["a", "./b"]);
    await writeFile(join(dir, "config.json"), "{not json");
    await expect(configuredDrivers(dir)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await writeFile(join(dir, "config.json"), '{"drivers": [1]}');
    await expect(configuredDrivers(dir)).rejects.toThrow(
      `config file ${join(dir, "config.json")}: "drivers" must be a list of package names or paths`,
    );
  });

  it("searches the base's node_modules and its parents first, then strata's, NODE_PATH, the global prefix", async () => {
    const dirs = searchDirs(join(dir, "a/b"), { NODE_PATH: join(dir, "np") });
    expect(dirs.slice(0, 3)).toEqual([
      join(dir, "a/b/node_modules"),
      join(dir, "a/node_modules"),
      join(dir, "node_modules"),
    ]);
    expect(dirs.indexOf(join(dir, "np"))).toBeGreaterThan(dirs.indexOf("/node_modules"));
    expect(dirs.at(-1)).toMatch(/\/lib\/node_modules$/);

    await pkg(join(dir, "node_modules"), "strata-driver-x", driverSource("x"));
    await pkg(join(dir, "node_modules/@acme"), "strata-y", driverSource("y"));
    await mkdir(join(dir, "a/b"), { recursive: true });
    expect(await locatePackage("strata-driver-x", join(dir, "a/b"))).toBe(
      join(dir, "node_modules/strata-driver-x"),
    );
    expect(await locatePackage("@acme/strata-y", dir)).toBe(
      join(dir, "node_modules/@acme/strata-y"),
    );
    expect(await locatePackage("./node_modules/strata-driver-x", dir)).toBe(
      join(dir, "node_modules/strata-driver-x"),
    );
    await expect(locatePackage("strata-driver-none", dir)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(locatePackage("Bad Name!", dir)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("a plugin may not take a built-in driver's name; an unknown name lists what exists", async () => {
    const vfs = await pkg(dir, "fake-vfs", driverSource("vfs"));
    const builtin = { ...(await import(join(vfs, "index.js"))).default };
    const meta = { getSetting: () => undefined };
    await expect(
      findDrivers({
        builtins: [builtin],
        storeRoot: dir,
        meta,
        requested: vfs.replace(dir, "."),
        cwd: dir,
      }),
    ).rejects.toThrow(
      `storage driver package "fake-vfs": driver name "vfs" is already taken by a built-in driver`,
    );
    const remembered = {
      getSetting: (k: string) =>
        k === PLUGIN_PACKAGES_SETTING ? JSON.stringify({ gone: join(dir, "gone") }) : undefined,
    };
    await expect(
      findDrivers({
        builtins: [builtin],
        storeRoot: dir,
        meta: remembered,
        requested: "nope",
        cwd: dir,
      }),
    ).rejects.toThrow(
      /^unknown storage driver "nope" \(available: gone, vfs\); storage driver package "nope" not found/,
    );
  });
});
