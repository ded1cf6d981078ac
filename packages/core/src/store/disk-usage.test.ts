import { describe, expect, it } from "vitest";
import type { ImageRecord } from "../image/image-types.js";
import { imageUsage } from "./disk-usage.js";

function image(id: string, layers: [string, number][]): ImageRecord {
  return {
    id,
    config: { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } },
    manifestDigest: "sha256:m",
    size: layers.reduce((n, [, s]) => n + s, 0),
    created: new Date(0),
    repoTags: [],
    repoDigests: [],
    layers: layers.map(([chainId, size]) => ({
      diffId: chainId,
      chainId,
      size,
      blob: { mediaType: "x", digest: chainId, size },
    })),
  };
}

describe("imageUsage (docker's SharedSize)", () => {
  it("counts a layer as shared when several images have it", () => {
    const a = image("a", [
      ["base", 100],
      ["a1", 10],
    ]);
    const b = image("b", [
      ["base", 100],
      ["b1", 20],
    ]);
    const c = image("c", [["other", 5]]);
    const usage = imageUsage([a, b, c], new Map([["b", 2]]));
    expect(usage.map((u) => [u.image.id, u.sharedSize, u.containers])).toEqual([
      ["a", 100, 0],
      ["b", 100, 2],
      ["c", 0, 0],
    ]);
  });
});
