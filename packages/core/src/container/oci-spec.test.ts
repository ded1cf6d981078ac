import { describe, expect, it } from "vitest";
import { normalizeSignal } from "./container-config.js";
import { buildOciSpec, containerEnv, mergeEnv } from "./oci-spec.js";

describe("buildOciSpec", () => {
  const input = {
    args: ["sh"],
    env: ["PATH=/bin"],
    cwd: "/",
    user: { uid: 1, gid: 2, additionalGids: [3] },
    terminal: true,
    hostname: "h",
    binds: [{ destination: "/data", type: "bind", source: "/srv", options: ["rbind", "ro"] }],
  };
  it("gives a container its own mount, pid, uts, ipc and (with none) network namespaces", () => {
    const spec = buildOciSpec({ ...input, network: "none" }) as {
      linux: { namespaces: { type: string }[] };
      process: { terminal: boolean; user: object };
      mounts: { destination: string }[];
      root: object;
    };
    expect(spec.linux.namespaces.map((n) => n.type).sort()).toEqual(
      ["ipc", "mount", "network", "pid", "uts"].sort(),
    );
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.user).toEqual({ uid: 1, gid: 2, additionalGids: [3] });
    expect(spec.root).toEqual({ path: "rootfs", readonly: false });
    expect(spec.mounts.map((m) => m.destination)).toContain("/proc");
    expect(spec.mounts.at(-1)?.destination).toBe("/data");
    const host = buildOciSpec({ ...input, network: "host" }) as typeof spec;
    expect(host.linux.namespaces.map((n) => n.type)).not.toContain("network");
  });
});

describe("containerEnv", () => {
  it("starts from docker's defaults; the container's own variables win", () => {
    expect(containerEnv(["HOSTNAME=shiyanlou", "A=1"], "abc", true)).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=shiyanlou",
      "TERM=xterm",
      "A=1",
    ]);
    expect(mergeEnv(["A=1", "B=2"], ["B=3", "C=4"])).toEqual(["A=1", "B=3", "C=4"]);
  });
});

describe("normalizeSignal", () => {
  it("takes docker's forms and refuses unknown signals", () => {
    expect(normalizeSignal("TERM")).toBe("SIGTERM");
    expect(normalizeSignal("sigkill")).toBe("SIGKILL");
    expect(normalizeSignal("9")).toBe("SIGKILL");
    expect(() => normalizeSignal("NOPE")).toThrow("Invalid signal: NOPE");
    expect(() => normalizeSignal("0")).toThrow("Invalid signal: 0");
  });
});
