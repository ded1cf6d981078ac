import { describe, expect, it } from "vitest";
import type { ContainerStore } from "../container/container-store.js";
import { FailedPreconditionError } from "../errors.js";
import { FilterArgs } from "../filters/filter-args.js";
import { ImagePruner } from "./image-pruner.js";
import type { ImageStore } from "./image-store.js";
import type { ImageRecord, RemovedItem } from "./image-types.js";

/** An image with one layer per name in `layers` (size 100 each). */
function image(
  id: string,
  opts: {
    tags?: string[];
    digests?: string[];
    parent?: string;
    layers?: string[];
    created?: string;
    labels?: Record<string, string>;
  } = {},
): ImageRecord {
  return {
    id,
    config: {
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
      config: { Labels: opts.labels ?? null },
    },
    manifestDigest: "sha256:m",
    size: 100 * (opts.layers?.length ?? 0),
    created: new Date(opts.created ?? "2024-01-01T00:00:00Z"),
    repoTags: opts.tags ?? [],
    repoDigests: opts.digests ?? [],
    layers: (opts.layers ?? []).map((l) => ({
      diffId: l,
      chainId: l,
      size: 100,
      blob: { mediaType: "x", digest: l, size: 100 },
    })),
    ...(opts.parent ? { parent: opts.parent } : {}),
  };
}

/** An image store in memory with rmi's rules (untag by name; the image goes with its last name). */
function fakeStore(images: ImageRecord[], usedBy: string[] = []) {
  let list = images.map((i) => ({ ...i }));
  const store = {
    list: async () => list.map((i) => ({ ...i })),
    unpacker: { prune: async () => [] },
    async remove(ref: string): Promise<RemovedItem[]> {
      const img = list.find(
        (i) => i.id === ref || i.repoTags.includes(ref) || i.repoDigests.includes(ref),
      );
      if (!img) throw new Error(`No such image: ${ref}`);
      const out: RemovedItem[] = [];
      const names = [...img.repoTags, ...img.repoDigests];
      if (ref !== img.id) {
        if (usedBy.includes(img.id) && names.length === 1)
          throw new FailedPreconditionError("conflict");
        img.repoTags = img.repoTags.filter((t) => t !== ref);
        img.repoDigests = img.repoDigests.filter((t) => t !== ref);
        out.push({ untagged: ref });
        if (names.length > 1) return out;
      } else if (usedBy.includes(img.id)) throw new FailedPreconditionError("conflict");
      list = list.filter((i) => i !== img);
      out.push({ deleted: img.id });
      for (const l of img.layers) {
        if (!list.some((i) => i.layers.some((x) => x.chainId === l.chainId)))
          out.push({ deleted: l.chainId });
      }
      return out;
    },
    current: () => list,
  };
  const containers = { list: () => usedBy.map((imageId) => ({ imageId })) };
  const pruner = new ImagePruner(
    store as unknown as ImageStore,
    containers as unknown as ContainerStore,
  );
  return { pruner, store };
}

describe("ImagePruner (moby's ImagesPrune)", () => {
  it("removes dangling images and the untagged parents they leave without children", async () => {
    const { pruner, store } = fakeStore([
      image("base", { tags: ["base:1"], layers: ["l1"] }),
      image("mid", { parent: "base", layers: ["l1", "l2"] }),
      image("top", { parent: "mid", layers: ["l1", "l2", "l3"] }),
      image("digested", { digests: ["web@sha256:1"], layers: ["l4"] }),
    ]);
    const report = await pruner.prune();
    expect(report.deleted).toEqual([
      { deleted: "top" },
      { deleted: "l3" },
      { deleted: "mid" },
      { deleted: "l2" },
      { untagged: "web@sha256:1" },
      { deleted: "digested" },
      { deleted: "l4" },
    ]);
    expect(report.spaceReclaimed).toBe(300);
    expect(store.current().map((i) => i.id)).toEqual(["base"]);
  });

  it("with all, removes every image no container uses", async () => {
    const { pruner, store } = fakeStore(
      [
        image("a", { tags: ["a:1", "a:2"], layers: ["shared", "la"] }),
        image("b", { tags: ["b:1"], layers: ["shared", "lb"] }),
      ],
      ["b"],
    );
    const report = await pruner.prune({ all: true });
    expect(report.deleted).toEqual([
      { untagged: "a:1" },
      { untagged: "a:2" },
      { deleted: "a" },
      { deleted: "la" },
    ]);
    expect(report.spaceReclaimed).toBe(100);
    expect(store.current().map((i) => i.id)).toEqual(["b"]);
  });

  it("honours until, label and label! filters", async () => {
    const images = () => [
      image("old", { tags: ["old:1"], created: "2020-01-01T00:00:00Z", labels: { keep: "no" } }),
      image("new", { tags: ["new:1"], created: "2024-01-01T00:00:00Z", labels: { keep: "yes" } }),
    ];
    const until = fakeStore(images());
    await until.pruner.prune({ all: true, filters: FilterArgs.parse(["until=2022-01-01"]) });
    expect(until.store.current().map((i) => i.id)).toEqual(["new"]);
    const label = fakeStore(images());
    await label.pruner.prune({ all: true, filters: FilterArgs.parse(["label!=keep=yes"]) });
    expect(label.store.current().map((i) => i.id)).toEqual(["new"]);
    const bad = fakeStore(images());
    await expect(bad.pruner.prune({ filters: FilterArgs.parse(["color=red"]) })).rejects.toThrow(
      "invalid filter 'color'",
    );
  });
});
