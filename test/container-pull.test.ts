/**
 * End-to-end tests of `run`'s `--pull` (issue #4): as docker's `run`, strata pulls an image
 * the store lacks (from the real registry server, started on loopback), reporting on
 * stderr, and `--pull never` refuses instead.
 */
import { afterAll, beforeAll, describe, expect } from "vitest";
import { importSeedImage, itAsRoot, removeAllContainers } from "./helpers/containers.js";
import { type RegistryServer, registryCli, startRegistry } from "./helpers/registry.js";
import { cleanupTempDirs, createStrata, makeTempDir, type StrataCli } from "./helpers/strata.js";

describe("run pulls what the store lacks", () => {
  let registry: RegistryServer;
  let cli: StrataCli;
  let reg: ReturnType<typeof registryCli>;
  let image: string;

  beforeAll(async () => {
    registry = await startRegistry(await makeTempDir());
    cli = await createStrata({ driver: "vfs" });
    reg = registryCli(cli, await makeTempDir());
    image = `${registry.address}/library/seed:latest`;
    await importSeedImage(cli, image);
    await reg.ok(["push", "-q", image]);
    await reg.ok(["rmi", image]);
  });
  afterAll(async () => {
    await removeAllContainers(cli);
    await registry?.stop();
    await cleanupTempDirs();
  });

  itAsRoot(
    "--pull never refuses an image the store lacks; bad values are usage errors",
    async () => {
      const never = await reg.run(["run", "--rm", "--pull", "never", image, "true"]);
      expect(never.code).toBe(125);
      expect(never.stderr).toBe(`Error: No such image: ${image}\n`);
      const bad = await reg.run(["run", "--rm", "--pull", "sometimes", image, "true"]);
      expect(bad.code).toBe(125);
      expect(bad.stderr).toContain(
        `invalid pull option: 'sometimes': must be one of "always", "missing" or "never"`,
      );
    },
  );

  itAsRoot("pulls a missing image, then runs it; the second run needs no pull", async () => {
    const first = await reg.run(["run", "--rm", image, "sh", "-c", "echo $HOSTNAME"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("shiyanlou\n");
    expect(first.stderr).toContain(`Unable to find image '${image}' locally\n`);
    expect(first.stderr).toContain(`Status: Downloaded newer image for ${image}\n`);
    const second = await reg.run(["run", "--rm", image, "true"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe("");
    const always = await reg.run(["run", "--rm", "--pull", "always", image, "true"]);
    expect(always.stderr).toContain(`Status: Image is up to date for ${image}\n`);
  });
});
