import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROBE_CACHE_FILE, ProbeCache } from "./probe-cache.js";

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-probe-cache-"));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("ProbeCache", () => {
  it("remembers a result for the same fingerprint only", async () => {
    const fp = await ProbeCache.fingerprint({ backingFilesystem: "ext4", probe: "1" });
    expect(fp.kernel).toBe(os.release());
    expect(fp.boot).toMatch(/^[0-9a-f-]{36}$/);
    const cache = new ProbeCache<{ nativeDiff: boolean }>(root, fp);
    expect(await cache.read()).toBeUndefined();
    await cache.write({ nativeDiff: true });
    expect(await new ProbeCache(root, { ...fp }).read()).toEqual({ nativeDiff: true });

    // Any fact changing (kernel, boot, backing filesystem), added or dropped: a miss.
    for (const other of [
      { ...fp, kernel: "6.0.0-other" },
      { ...fp, boot: "00000000-0000-0000-0000-000000000000" },
      { ...fp, backingFilesystem: "xfs" },
      { ...fp, helper: "123:456" },
      { kernel: fp.kernel!, boot: fp.boot!, probe: "1" },
    ]) {
      expect(await new ProbeCache(root, other).read()).toBeUndefined();
    }
    await cache.clear();
    expect(await cache.read()).toBeUndefined();
  });

  it("treats a damaged file as a miss, and leaves no temporary file", async () => {
    const fp = await ProbeCache.fingerprint({});
    await fs.writeFile(path.join(root, PROBE_CACHE_FILE), '{"fingerprint": {"kern');
    const cache = new ProbeCache<number>(root, fp);
    expect(await cache.read()).toBeUndefined();
    await cache.write(7);
    expect(await cache.read()).toBe(7);
    expect(await fs.readdir(root)).toEqual([PROBE_CACHE_FILE]);
  });
});
