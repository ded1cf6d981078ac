import { describe, expect, it } from "vitest";
import {
  normalizePlatform,
  platformString,
  requestedPlatform,
  selectManifest,
} from "./platform-match.js";

const d = (architecture: string, variant?: string, os = "linux") => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${architecture}${variant ?? ""}`.padEnd(71, "0"),
  size: 1,
  platform: variant ? { os, architecture, variant } : { os, architecture },
});

describe("platform selection", () => {
  it("normalizes architecture names and default variants as containerd does", () => {
    expect(normalizePlatform({ os: "linux", architecture: "aarch64" })).toEqual({
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    expect(normalizePlatform({ os: "linux", architecture: "x86_64" })).toEqual({
      os: "linux",
      architecture: "amd64",
    });
    expect(platformString(requestedPlatform("linux/arm/6"))).toBe("linux/arm/v6");
  });

  it("picks the exact variant first, then any variant, and never unknown/unknown", () => {
    const list = [
      d("unknown", undefined, "unknown"),
      d("arm", "v6"),
      d("arm", "v7"),
      d("amd64"),
      d("arm64", "v8"),
    ];
    expect(selectManifest(list, { os: "linux", architecture: "arm", variant: "v7" })).toBe(list[2]);
    expect(selectManifest(list, { os: "linux", architecture: "arm64" })).toBe(list[4]);
    expect(selectManifest(list, { os: "linux", architecture: "amd64" })).toBe(list[3]);
    expect(selectManifest(list, { os: "linux", architecture: "s390x" })).toBeUndefined();
    expect(
      selectManifest([d("arm", "v5")], { os: "linux", architecture: "arm", variant: "v7" }),
    ).toBeUndefined();
  });
});
