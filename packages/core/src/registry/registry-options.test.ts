import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { loginDomain } from "./registry-client.js";
import { apiHost, isInsecureRegistry, loadRegistryOptions } from "./registry-options.js";

describe("registry options", () => {
  it("treats loopback as insecure, and listed hosts, hostnames and CIDRs", () => {
    expect(isInsecureRegistry("localhost:5000")).toBe(true);
    expect(isInsecureRegistry("127.0.0.1:5000")).toBe(true);
    expect(isInsecureRegistry("127.8.9.1")).toBe(true);
    expect(isInsecureRegistry("[::1]:5000")).toBe(true);
    expect(isInsecureRegistry("registry.lan:5000")).toBe(false);
    expect(isInsecureRegistry("registry.lan:5000", ["registry.lan:5000"])).toBe(true);
    expect(isInsecureRegistry("registry.lan:5000", ["registry.lan"])).toBe(true);
    expect(isInsecureRegistry("10.1.2.3:5000", ["10.0.0.0/8"])).toBe(true);
    expect(isInsecureRegistry("11.1.2.3:5000", ["10.0.0.0/8"])).toBe(false);
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });

  it("merges registries.json (daemon.json's keys) with the flags", async () => {
    const dir = await mkdtemp(join(tmpdir(), "strata-regopts-"));
    try {
      expect(loadRegistryOptions({ configDir: dir, mirrors: ["http://a"] }).mirrors).toEqual([
        "http://a",
      ]);
      await writeFile(
        join(dir, "registries.json"),
        JSON.stringify({
          "insecure-registries": ["r.lan:5000"],
          "registry-mirrors": ["http://m:5000"],
        }),
      );
      const opts = loadRegistryOptions({
        configDir: dir,
        mirrors: ["http://a"],
        insecureRegistries: ["x"],
      });
      expect(opts.mirrors).toEqual(["http://a", "http://m:5000"]);
      expect(opts.insecureRegistries).toEqual(["x", "r.lan:5000"]);
      await writeFile(join(dir, "registries.json"), "{nope");
      expect(() => loadRegistryOptions({ configDir: dir })).toThrow(InvalidArgumentError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads login servers as docker does", () => {
    expect(loginDomain(undefined)).toBe("docker.io");
    expect(loginDomain("https://index.docker.io/v1/")).toBe("docker.io");
    expect(loginDomain("http://127.0.0.1:5000/v2/")).toBe("127.0.0.1:5000");
    expect(loginDomain("Registry.Example")).toBe("registry.example");
  });
});
