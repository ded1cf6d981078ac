/**
 * Third-party storage drivers (issue 12): the example package `examples/driver-hardlink`,
 * built from a packed @strata/core tarball by its scripts/setup (run here when its dist is
 * missing), selected by package name, by path in the store's config.json, and by driver
 * name afterwards; a pull from the real registry, a run, a commit and a run of the commit
 * on it. Packages that are missing, are not drivers or target another contract version
 * fail with a clear message and exit 1, and leave the store usable.
 */
import { access, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  importSeedImage,
  itAsRoot,
  mountsBelow,
  removeAllContainers,
} from "./helpers/containers.js";
import { type RegistryServer, registryCli, startRegistry } from "./helpers/registry.js";
import {
  cleanupTempDirs,
  createStrata,
  makeTempDir,
  repoRoot,
  run,
  StrataCli,
} from "./helpers/strata.js";

const example = join(repoRoot, "examples/driver-hardlink");

/** Build the example as its README says, unless scripts/test already did. */
async function ensureExampleBuilt(): Promise<void> {
  const built = await access(join(example, "dist/index.js")).then(
    () => true,
    () => false,
  );
  if (built) return;
  const r = await run("bash", [join(example, "scripts/setup")], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`examples/driver-hardlink/scripts/setup failed:\n${r.stderr}`);
}

/** A directory whose node_modules holds `name` → `target` (an installed package). */
async function projectWith(name: string, target: string): Promise<string> {
  const dir = await makeTempDir("strata-plugin-project-");
  await mkdir(join(dir, "node_modules"), { recursive: true });
  await symlink(target, join(dir, "node_modules", name));
  return dir;
}

/** A package directory with an ESM index.js of `source`. */
async function fakePackage(name: string, source: string): Promise<string> {
  const dir = await makeTempDir("strata-plugin-pkg-");
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name, version: "1.0.0", type: "module", main: "index.js" }),
  );
  await writeFile(join(dir, "index.js"), source);
  return dir;
}

describe("driver plugins: errors", () => {
  let cli: StrataCli;
  beforeAll(async () => {
    cli = await createStrata();
  });
  afterAll(() => cleanupTempDirs());

  it("an unknown name that is no installed package either: exit 1, what was searched", async () => {
    const r = await cli.run("--storage-driver", "strata-driver-nonexistent", "images");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Error: unknown storage driver "strata-driver-nonexistent" \(available: aufs, overlay, vfs\); storage driver package "strata-driver-nonexistent" not found \(looked in node_modules of .*\)\n$/,
    );
  });

  it("a package that exports no driver module, and one of another contract version", async () => {
    const notDriver = await fakePackage("left-pad-ish", "export const pad = (s) => s;\n");
    const r1 = await cli.run("--storage-driver", notDriver, "images");
    expect(r1.code).toBe(1);
    expect(r1.stderr).toBe(
      `Error: package "left-pad-ish" is not a strata storage driver: it exports no driver module (a named export "driver" or a default export with name, contractVersion, priority, probe and register)\n`,
    );
    const future = await fakePackage(
      "strata-driver-future",
      'export const driver = { name: "future", contractVersion: 99, priority: 1, async probe() {}, register() {} };\n',
    );
    const project = await projectWith("strata-driver-future", future);
    const r2 = await cli.run(["--storage-driver", "strata-driver-future", "images"], {
      cwd: project,
    });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toBe(
      `Error: storage driver package "strata-driver-future" (driver "future") implements driver contract version 99, but this strata implements version 1\n`,
    );
  });

  it("a broken config.json or a missing configured package fails every store command; the store is unharmed", async () => {
    const store = await createStrata({ driver: "vfs" });
    await store.ok("images");
    await writeFile(join(store.root, "config.json"), '{"drivers": ["./nowhere"]}');
    const missing = await store.run("images");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `Error: storage driver package "./nowhere": ${join(store.root, "nowhere")} does not exist\n`,
    );
    await writeFile(join(store.root, "config.json"), '{"drivers": "x"}');
    const bad = await store.run("images");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `Error: config file ${join(store.root, "config.json")}: "drivers" must be a list of package names or paths\n`,
    );
    await writeFile(join(store.root, "config.json"), "{}");
    expect(await store.ok("images")).toMatch(/^REPOSITORY/);
  });
});

describe("driver plugins: the example hardlink driver", () => {
  let registry: RegistryServer;
  let pusher: StrataCli;
  let cli: StrataCli;
  let project: string;
  let image: string;

  beforeAll(async () => {
    await ensureExampleBuilt();
    project = await projectWith("strata-driver-hardlink", example);
    registry = await startRegistry(await makeTempDir());
    pusher = await createStrata({ driver: "vfs" });
    image = `${registry.address}/library/seed:latest`;
    await importSeedImage(pusher, image);
    await registryCli(pusher, await makeTempDir()).ok(["push", "-q", image]);
    cli = await createStrata({ driver: "strata-driver-hardlink" });
  });
  afterAll(async () => {
    if (cli) await removeAllContainers(new StrataCli(cli.root));
    await registry?.stop();
    await cleanupTempDirs();
  });

  itAsRoot(
    "selected by package name: pull, run, commit, run the commit; then by driver name and as last used",
    async () => {
      const reg = registryCli(cli, await makeTempDir());
      const opts = { cwd: project };
      await reg.ok(["pull", "-q", image], opts);
      const out = await reg.ok(
        ["run", "--name", "c1", image, "sh", "-c", "echo plugin > /hello; cat /hello"],
        opts,
      );
      expect(out).toBe("plugin\n");
      expect(await reg.ok(["diff", "c1"], opts)).toBe("A /hello\n");
      await reg.ok(["commit", "c1", "committed:1"], opts);
      expect(await reg.ok(["run", "--rm", "committed:1", "cat", "/hello"], opts)).toBe("plugin\n");

      // The store remembers the package: later commands need only the driver's name, or
      // nothing at all (the store's last-used driver), from any directory.
      const byName = new StrataCli(cli.root, "hardlink");
      expect(await byName.ok("run", "--rm", "committed:1", "cat", "/hello")).toBe("plugin\n");
      const plain = new StrataCli(cli.root);
      const info = await plain.ok("info");
      expect(info).toContain(" Storage Driver: hardlink\n");
      expect(info).toContain("  hardlink (plugin, package strata-driver-hardlink): usable\n");
      expect(await plain.ok("images", "--format", "{{.Repository}}:{{.Tag}}")).toBe(
        `committed:1\n${image}\n`,
      );
      await plain.ok("rm", "c1");
      expect(await mountsBelow(cli.root)).toEqual([]);
    },
  );

  itAsRoot("listed in the store's config.json, by path: usable by driver name", async () => {
    const store = await createStrata({ driver: "hardlink" });
    await writeFile(join(store.root, "config.json"), JSON.stringify({ drivers: [example] }));
    await importSeedImage(store, "seed");
    expect(await store.ok("run", "--rm", "seed", "sh", "-c", "echo $HOSTNAME")).toBe("shiyanlou\n");
    const info = await new StrataCli(store.root).ok("info");
    expect(info).toContain("  hardlink (plugin, package strata-driver-hardlink): usable\n");
    expect(info).toMatch(/ Storage Driver: hardlink\n/);
  });
});
