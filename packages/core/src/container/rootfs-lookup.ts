import * as fs from "node:fs";
import * as path from "node:path";
import { CommandNotRunnableError, NotFoundError } from "../errors.js";

/**
 * The host path that `p` (absolute inside the container) names in the tree at `root`,
 * following symlinks as the container would see them: an absolute target is taken from
 * `root`, and `..` never climbs above it (the idea of Go's `securejoin`). The last
 * component is followed too unless `followLast` is false. Missing components are kept
 * as they are.
 */
export function resolveInRoot(root: string, p: string, followLast = true): string {
  const todo = p.split("/").filter((c) => c !== "" && c !== ".");
  const done: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === "..") {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, c);
    let target: string | undefined;
    if (followLast || todo.length > 0) {
      try {
        if (fs.lstatSync(host).isSymbolicLink()) target = fs.readlinkSync(host);
      } catch {
        target = undefined;
      }
    }
    if (target === undefined) {
      done.push(c);
      continue;
    }
    if (++hops > 40) throw new NotFoundError(`${p}: too many levels of symbolic links`);
    if (target.startsWith("/")) done.length = 0;
    todo.unshift(...target.split("/").filter((x) => x !== "" && x !== "."));
  }
  return path.join(root, ...done);
}

/** Numeric identity a container process runs as. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: those of `/etc/group` that list the user by name. */
  additionalGids: number[];
}

function readLines(root: string, file: string): string[][] {
  try {
    return fs
      .readFileSync(resolveInRoot(root, file), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"))
      .map((l) => l.split(":"));
  } catch {
    return [];
  }
}

const NUMERIC = /^\d+$/;

/**
 * Resolve docker's `-u` value (`user`, `uid`, `user:group`, `uid:gid`) against the
 * container's `/etc/passwd` and `/etc/group`, as runc's `user.GetExecUser` does: numbers
 * need no entry, names do; the primary group comes from passwd unless a group is given.
 * An empty spec is root.
 * @throws NotFoundError `unable to find user x: no matching entries in passwd file`.
 */
export function lookupUser(root: string, spec: string): ResolvedUser {
  const [userPart = "", groupPart] = spec.split(":", 2);
  const passwd = readLines(root, "/etc/passwd");
  const groups = readLines(root, "/etc/group");
  let uid = 0;
  let gid = 0;
  let userName: string | undefined = "root";
  if (userPart !== "") {
    const entry = passwd.find((e) =>
      NUMERIC.test(userPart) ? e[2] === userPart : e[0] === userPart,
    );
    if (entry) {
      uid = Number(entry[2]);
      gid = Number(entry[3]);
      userName = entry[0];
    } else if (NUMERIC.test(userPart)) {
      uid = Number(userPart);
      userName = undefined;
    } else {
      throw new NotFoundError(
        `unable to find user ${userPart}: no matching entries in passwd file`,
      );
    }
  } else {
    const rootEntry = passwd.find((e) => e[2] === "0");
    if (rootEntry) userName = rootEntry[0];
  }
  if (groupPart !== undefined && groupPart !== "") {
    const g = groups.find((e) =>
      NUMERIC.test(groupPart) ? e[2] === groupPart : e[0] === groupPart,
    );
    if (g) gid = Number(g[2]);
    else if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      throw new NotFoundError(
        `unable to find group ${groupPart}: no matching entries in group file`,
      );
    }
  }
  const additionalGids =
    userName === undefined
      ? []
      : groups
          .filter((g) => (g[3] ?? "").split(",").includes(userName!) && Number(g[2]) !== gid)
          .map((g) => Number(g[2]));
  return { uid, gid, additionalGids };
}

/**
 * Check that `command` can be executed in the container whose tree is at `root`, looking
 * it up on `PATH` (from `env`) when it has no `/`, as Go's `exec.LookPath` inside runc does,
 * so that strata can answer with docker's exit codes before runc is even started.
 * @returns the path inside the container.
 * @throws CommandNotRunnableError exit code 127 when it does not exist, 126 when it is not
 *   an executable file.
 */
export function checkExecutable(
  root: string,
  command: string,
  env: readonly string[],
  cwd: string,
): string {
  const notFound = (what: string) =>
    new CommandNotRunnableError(`exec: "${command}": ${what}`, 127);
  if (command === "") throw notFound("executable file not found in $PATH");
  const candidates: string[] = [];
  if (command.includes("/")) {
    candidates.push(command.startsWith("/") ? command : path.posix.join(cwd, command));
  } else {
    const envPath = [...env].reverse().find((e) => e.startsWith("PATH="));
    const dirs = (envPath ?? "PATH=").slice(5).split(":");
    for (const d of dirs) candidates.push(path.posix.join(d === "" ? cwd : d, command));
  }
  let denied: string | undefined;
  for (const c of candidates) {
    let st: fs.Stats;
    try {
      st = fs.statSync(resolveInRoot(root, c));
    } catch {
      continue;
    }
    if (st.isFile() && (st.mode & 0o111) !== 0) return c;
    denied ??= c;
  }
  if (denied !== undefined && command.includes("/")) {
    throw new CommandNotRunnableError(`exec: "${command}": permission denied`, 126);
  }
  if (command.includes("/")) throw notFound("no such file or directory");
  throw notFound("executable file not found in $PATH");
}
