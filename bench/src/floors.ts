import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The floors: what the machine's own tools take for the same work, measured in the same run
 * on the same bytes. A result shown as a ratio to its floor stays comparable across
 * machines and noisy runs where absolute MB/s do not.
 */

/** Run a command to completion; reject with its stderr when it fails. */
function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`${cmd} ${args.join(" ")}: ${signal ?? `exit ${code}`}: ${stderr.trim()}`),
        );
    });
  });
}

/**
 * GNU `tar -c <dir> | sha256sum`: the floor of a diff, which reads a tree, writes a tar
 * stream and hashes it. With `list` (a file of NUL-terminated paths relative to `dir`) tar
 * reads exactly those entries (`--no-recursion`), the entries a layer holds; without it the
 * whole directory (an overlay upper directory is exactly the change).
 */
export function tarCreateHash(dir: string, list?: string): Promise<void> {
  const tar = list ? `tar -c -f - -C "$1" --null --no-recursion -T "$2"` : `tar -c -f - -C "$1" .`;
  return run("bash", [
    "-o",
    "pipefail",
    "-c",
    `${tar} | sha256sum >/dev/null`,
    "floor",
    dir,
    list ?? "",
  ]);
}

/**
 * `find <dir>` with its listing discarded: the floor of listing a change, which walks the
 * same tree (reads every directory, stats what it needs).
 */
export function findTree(dir: string): Promise<void> {
  return run("bash", ["-c", `find "$1" >/dev/null`, "floor", dir]);
}

/**
 * GNU `tar -cf <file>` of `files` (absolute paths): the floor of a save. With `root`, the
 * members are named relative to it (`.` for `root` itself), as a root filesystem tarball.
 */
export function tarCreateFile(file: string, files: readonly string[], root = "/"): Promise<void> {
  const names = files.map((f) => path.relative(root, f) || ".");
  return run("tar", ["-cf", file, "-C", root, ...names]);
}

/** GNU `tar -x` of the layer tar `file` into `dir`: the floor of an apply. */
export function tarExtract(file: string, dir: string): Promise<void> {
  return run("tar", ["-x", "-f", file, "-C", dir]);
}

/** `sha256sum <file>`: the hashing floor for a layer's bytes. */
export function sha256sum(file: string): Promise<void> {
  return run("sha256sum", [file]);
}

/** The first line (or the first matching `pick`) of `<cmd> --version`, for the report. */
export async function toolVersion(cmd: string, pick?: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.on("error", () => resolve("unavailable"));
    child.on("close", () => {
      const lines = out.split("\n");
      resolve((pick ? lines.find((l) => pick.test(l)) : lines[0])?.trim() || "unknown");
    });
  });
}

/** Remove everything inside `dir`, keeping `dir` itself (between samples, untimed). */
export function emptyDir(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Flush the filesystem holding `dir` (`sync -f`), between samples: the writeback and the
 * freeing of blocks that one sample caused must not be billed to the next one.
 */
export function settle(dir: string): void {
  execFileSync("sync", ["-f", dir], { stdio: "ignore" });
}
