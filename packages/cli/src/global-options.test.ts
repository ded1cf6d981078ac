import { describe, expect, it } from "vitest";
import { DEFAULT_ROOT, parseBool, parseGlobalOptions } from "./global-options.js";

describe("parseGlobalOptions", () => {
  it("takes global flags before the command and leaves the rest", () => {
    const g = parseGlobalOptions([
      "--root",
      "/tmp/s",
      "-s",
      "vfs",
      "--debug",
      "images",
      "-q",
      "--root",
      "x",
    ]);
    expect(g).toMatchObject({ root: "/tmp/s", storageDriver: "vfs", debug: true, help: false });
    expect(g.rest).toEqual(["images", "-q", "--root", "x"]);
  });

  it("accepts --flag=value forms", () => {
    const g = parseGlobalOptions([
      "--root=/r",
      "--storage-driver=vfs",
      "--storage-opt",
      "a=b=c",
      "info",
    ]);
    expect(g).toMatchObject({ root: "/r", storageDriver: "vfs", storageOpts: { a: "b=c" } });
    expect(parseGlobalOptions(["-s=vfs", "info"]).storageDriver).toBe("vfs");
    expect(parseGlobalOptions(["--debug=false", "info"]).debug).toBe(false);
  });

  it("defaults from the environment, flags win", () => {
    const env = { STRATA_ROOT: "/env/root", STRATA_STORAGE_DRIVER: "aufs" };
    expect(parseGlobalOptions(["images"], env)).toMatchObject({
      root: "/env/root",
      storageDriver: "aufs",
    });
    expect(parseGlobalOptions(["-s", "vfs", "images"], env).storageDriver).toBe("vfs");
    const none = parseGlobalOptions(["images"], {});
    expect(none.root).toBe(DEFAULT_ROOT);
    expect(none.storageDriver).toBeUndefined();
  });

  it("recognises -v/--version and -h/--help, and treats no command as help", () => {
    expect(parseGlobalOptions(["-v"]).version).toBe(true);
    expect(parseGlobalOptions(["--version"]).help).toBe(false);
    expect(parseGlobalOptions(["-h"]).help).toBe(true);
    expect(parseGlobalOptions([]).help).toBe(true);
    expect(parseGlobalOptions(["--root", "/x"]).help).toBe(true);
  });

  it("stops at -- and at a lone -", () => {
    expect(parseGlobalOptions(["--", "--weird"]).rest).toEqual(["--weird"]);
    expect(parseGlobalOptions(["-", "x"]).rest).toEqual(["-", "x"]);
  });

  it("rejects unknown flags and missing values with usage errors", () => {
    expect(() => parseGlobalOptions(["--nope", "images"])).toThrow("unknown flag: --nope");
    expect(() => parseGlobalOptions(["--root"])).toThrow("flag needs an argument: --root");
    expect(() => parseGlobalOptions(["--storage-opt", "novalue", "info"])).toThrow(/KEY=VALUE/);
    expect(() => parseGlobalOptions(["--root=", "info"])).toThrow(/non-empty/);
    try {
      parseGlobalOptions(["-x"]);
    } catch (err) {
      expect((err as { clipanion?: { type: string } }).clipanion?.type).toBe("usage");
    }
  });
});

describe("parseBool (Go strconv.ParseBool)", () => {
  it("accepts Go's spellings", () => {
    for (const t of ["1", "t", "T", "true", "TRUE", "True"]) expect(parseBool("-H", t)).toBe(true);
    for (const f of ["0", "f", "F", "false", "FALSE", "False"])
      expect(parseBool("-H", f)).toBe(false);
    expect(() => parseBool("--human", "yes")).toThrow(/invalid argument "yes" for "--human" flag/);
  });
});
