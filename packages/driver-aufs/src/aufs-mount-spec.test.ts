import { InvalidArgumentError } from "@strata/core";
import { describe, expect, it } from "vitest";
import { aufsMount, fuseMountOptions, parseAufsMount } from "./aufs-mount-spec.js";

describe("aufs mount data", () => {
  const branches = [
    { root: "/s/3/fs", rw: true },
    { root: "/s/2/fs", rw: false },
    { root: "/s/1/fs", rw: false },
  ];

  it("writes AUFS's br= syntax and reads it back", () => {
    const m = aufsMount({ branches, workdir: "/s/3/work", readOnly: false });
    expect(m).toEqual({
      type: "fuse.aufs",
      source: "aufs",
      options: ["br=/s/3/fs=rw:/s/2/fs=ro+wh:/s/1/fs=ro+wh", "workdir=/s/3/work"],
    });
    expect(parseAufsMount(m)).toEqual({ branches, workdir: "/s/3/work", readOnly: false });
    const view = aufsMount({ branches: branches.slice(1), readOnly: true });
    expect(view.options[0]).toBe("ro");
    expect(parseAufsMount(view)).toEqual({ branches: branches.slice(1), readOnly: true });
  });

  it("rejects what the syntax cannot carry or a union cannot be", () => {
    const bad = (options: string[]) => () =>
      parseAufsMount({ type: "fuse.aufs", source: "aufs", options });
    expect(() => aufsMount({ branches: [{ root: "/a:b", rw: false }], readOnly: true })).toThrow(
      InvalidArgumentError,
    );
    expect(bad([])).toThrow(InvalidArgumentError);
    expect(bad(["br=/a=ro:/b=rw"])).toThrow(/only the top branch/);
    expect(bad(["br=/a=rw"])).toThrow(/workdir/);
    expect(bad(["br=/a=wx"])).toThrow(/unknown permission/);
    expect(() => parseAufsMount({ type: "bind", source: "/a", options: [] })).toThrow(
      InvalidArgumentError,
    );
  });

  it("mounts for other users, with the kernel checking access, backing inodes and long caches", () => {
    const rw = fuseMountOptions({ branches, workdir: "/w", readOnly: false });
    expect(rw).toEqual(
      expect.arrayContaining(["allow_other", "default_permissions", "use_ino", "subtype=aufs"]),
    );
    expect(rw).toContain("attr_timeout=3600");
    expect(rw).not.toContain("ro");
    const ro = fuseMountOptions(
      { branches: branches.slice(1), readOnly: true },
      { attrTimeout: 5 },
    );
    expect(ro).toContain("ro");
    expect(ro).toContain("attr_timeout=5");
  });
});
