import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommandNotRunnableError, NotFoundError } from "../errors.js";
import { checkExecutable, lookupUser, resolveInRoot } from "./rootfs-lookup.js";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "strata-rootfs-"));
  fs.mkdirSync(path.join(root, "etc"));
  fs.mkdirSync(path.join(root, "usr/bin"), { recursive: true });
  fs.symlinkSync("usr/bin", path.join(root, "bin"));
  fs.symlinkSync("/etc/passwd", path.join(root, "abs-link"));
  fs.symlinkSync("../../../../../../etc", path.join(root, "usr/escape"));
  fs.writeFileSync(path.join(root, "usr/bin/tool"), "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(path.join(root, "usr/bin/data"), "x", { mode: 0o644 });
  fs.writeFileSync(
    path.join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
  );
  fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nusers:x:100:alice\nalice:x:1000:\n");
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe("resolveInRoot", () => {
  it("follows symlinks as the container sees them, never out of the root", () => {
    expect(resolveInRoot(root, "/bin/tool")).toBe(path.join(root, "usr/bin/tool"));
    expect(resolveInRoot(root, "/abs-link")).toBe(path.join(root, "etc/passwd"));
    expect(resolveInRoot(root, "/usr/escape/group")).toBe(path.join(root, "etc/group"));
    expect(resolveInRoot(root, "/../../x")).toBe(path.join(root, "x"));
    expect(resolveInRoot(root, "/abs-link", false)).toBe(path.join(root, "abs-link"));
  });
});

describe("lookupUser", () => {
  it("resolves names and numbers with passwd and group, as runc does", () => {
    expect(lookupUser(root, "")).toEqual({ uid: 0, gid: 0, additionalGids: [] });
    expect(lookupUser(root, "alice")).toEqual({ uid: 1000, gid: 1000, additionalGids: [100] });
    expect(lookupUser(root, "1000:users")).toEqual({ uid: 1000, gid: 100, additionalGids: [] });
    expect(lookupUser(root, "4242:77")).toEqual({ uid: 4242, gid: 77, additionalGids: [] });
    expect(() => lookupUser(root, "bob")).toThrow(NotFoundError);
    expect(() => lookupUser(root, "bob")).toThrow(
      "unable to find user bob: no matching entries in passwd file",
    );
    expect(() => lookupUser(root, "alice:staff")).toThrow(
      "unable to find group staff: no matching entries in group file",
    );
  });
});

describe("checkExecutable", () => {
  const env = ["PATH=/usr/local/bin:/bin"];
  it("finds commands on the container's PATH and by path", () => {
    expect(checkExecutable(root, "tool", env, "/")).toBe("/bin/tool");
    expect(checkExecutable(root, "/usr/bin/tool", env, "/")).toBe("/usr/bin/tool");
    expect(checkExecutable(root, "bin/tool", env, "/")).toBe("/bin/tool");
  });
  it("answers docker's 127 for a missing command and 126 for one that cannot be executed", () => {
    const missing = () => checkExecutable(root, "nosuch", env, "/");
    expect(missing).toThrow(CommandNotRunnableError);
    expect(missing).toThrow('exec: "nosuch": executable file not found in $PATH');
    try {
      missing();
    } catch (err) {
      expect((err as CommandNotRunnableError).exitCode).toBe(127);
    }
    try {
      checkExecutable(root, "/usr/bin/data", env, "/");
      expect.unreachable();
    } catch (err) {
      expect((err as CommandNotRunnableError).exitCode).toBe(126);
      expect((err as Error).message).toBe('exec: "/usr/bin/data": permission denied');
    }
    expect(() => checkExecutable(root, "/nope", env, "/")).toThrow(
      'exec: "/nope": no such file or directory',
    );
  });
});
