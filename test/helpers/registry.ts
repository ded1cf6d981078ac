/**
 * Helpers for the registry end-to-end tests: the real distribution registry (Debian's
 * `docker-registry`, started by `scripts/registry` on loopback with a free port), the CLI
 * with a client configuration of its own, and tampering with a stored blob. Seeding the
 * registry is in `registry-seed.ts`, the cutting/throttling proxy in `tcp-proxy.ts`.
 *
 * @example
 * ```ts
 * const registry = await startRegistry(await makeTempDir());
 * afterAll(() => registry.stop());
 * const seeded = await seedImages(registry.address, await makeTempDir());
 * await registryCli(cli, configDir).ok(["pull", seeded.oci.ref]);
 * ```
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type RunOptions, type RunResult, repoRoot, run, type StrataCli } from "./strata.js";

/** A running registry started by `scripts/registry`. */
export interface RegistryServer {
  /** `127.0.0.1:PORT`. */
  address: string;
  /** The directory holding its config, log and data. */
  dir: string;
  /** Where the registry keeps a blob's bytes (to tamper with it). */
  blobPath(digest: string): string;
  /** Stop the server (its data stay). */
  stop(): Promise<void>;
}

/** Options of {@link startRegistry}. */
export interface RegistryServerOptions {
  /** Require HTTP Basic auth with this user (htpasswd, bcrypt). */
  htpasswd?: { user: string; password: string };
  /** Require Bearer tokens: `realm,service,issuer,certificate file`. */
  token?: { realm: string; service: string; issuer: string; certFile: string };
}

/** Start the real registry in `dir` (see scripts/registry). */
export async function startRegistry(
  dir: string,
  options: RegistryServerOptions = {},
): Promise<RegistryServer> {
  const script = join(repoRoot, "scripts/registry");
  const args = [script, "start", dir];
  if (options.htpasswd)
    args.push("--htpasswd", `${options.htpasswd.user}:${options.htpasswd.password}`);
  if (options.token) {
    const t = options.token;
    args.push("--token", [t.realm, t.service, t.issuer, t.certFile].join(","));
  }
  const res = await run("bash", args, { timeoutMs: 60_000 });
  if (res.code !== 0) throw new Error(`scripts/registry start failed: ${res.stderr}`);
  const address = res.stdout.trim();
  return {
    address,
    dir,
    blobPath: (digest) => {
      const hex = digest.replace(/^sha256:/, "");
      return join(dir, "data/docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    },
    stop: async () => {
      await run("bash", [script, "stop", dir], { timeoutMs: 30_000 });
    },
  };
}

/** Runs a command and throws with its stderr unless it exits 0. */
export async function must(command: string, args: string[]): Promise<string> {
  const res = await run(command, args, { timeoutMs: 300_000 });
  if (res.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
  }
  return res.stdout;
}

/**
 * `strata` with its client configuration in `configDir` (`STRATA_CONFIG`) and docker's
 * config pointed at a directory of its own, so no real credentials are ever read.
 */
export function registryCli(cli: StrataCli, configDir: string) {
  const env = { STRATA_CONFIG: configDir, DOCKER_CONFIG: join(configDir, "docker") };
  const runIt = (args: string[], options: RunOptions = {}): Promise<RunResult> =>
    cli.run(args, { ...options, env: { ...env, ...options.env } });
  return {
    root: cli.root,
    env,
    run: runIt,
    async ok(args: string[], options: RunOptions = {}): Promise<string> {
      const res = await runIt(args, options);
      if (res.code !== 0) {
        throw new Error(
          `strata ${args.join(" ")} exited ${res.code}\n${res.stderr}\n${res.stdout}`,
        );
      }
      return res.stdout;
    },
  };
}

/** Replace the bytes of a file in place with others of the same length (tamper a blob). */
export async function tamper(file: string, at = 100): Promise<void> {
  const data = await readFile(file);
  for (let i = at; i < Math.min(at + 16, data.length); i++) data[i] = data[i]! ^ 0xff;
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
}
