import { FilterArgs, type ImageRecord, NotFoundError } from "@strata/core";
import { describe, expect, it } from "vitest";
import { selectImages } from "./image-filters.js";

function image(name: string, created: string, extra: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id: `sha256:${name.padEnd(64, "0")}`,
    config: { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } },
    manifestDigest: `sha256:${"f".repeat(64)}`,
    size: 1000,
    created: new Date(created),
    repoTags: [],
    repoDigests: [],
    layers: [],
    ...extra,
  };
}

const base = image("aaaa", "2024-01-01T00:00:00Z", {
  repoTags: ["busybox:latest", "busybox:1.36"],
  config: {
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
    config: { Labels: { team: "core", tier: "base" } },
  },
});
const parent = image("bbbb", "2024-02-01T00:00:00Z"); // untagged parent of child
const child = image("cccc", "2024-03-01T00:00:00Z", { parent: parent.id, repoTags: ["app:1"] });
const dangling = image("dddd", "2024-04-01T00:00:00Z");
const digestOnly = image("eeee", "2024-05-01T00:00:00Z", {
  repoDigests: [`web@sha256:${"1".repeat(64)}`],
});
const all = [digestOnly, dangling, child, parent, base];
const byName: Record<string, ImageRecord> = { busybox: base, app: child, dddd: dangling };

async function names(filters: string[], opts: { all?: boolean } = {}): Promise<string[]> {
  const out = await selectImages(all, FilterArgs.parse(filters), {
    ...opts,
    resolve: async (ref) => {
      const img = byName[ref];
      if (!img) throw new NotFoundError(`No such image: ${ref}`);
      return img;
    },
    now: new Date("2024-06-01T00:00:00Z"),
  });
  return out.map((i) => `${i.id.slice(7, 11)}:${[...i.repoTags, ...i.repoDigests].join(",")}`);
}

describe("images filters (moby's rules)", () => {
  it("hides intermediate images unless -a", async () => {
    expect(await names([])).toEqual([
      `eeee:web@sha256:${"1".repeat(64)}`,
      "dddd:",
      "cccc:app:1",
      "aaaa:busybox:latest,busybox:1.36",
    ]);
    expect(await names([], { all: true })).toContain("bbbb:");
  });

  it("dangling=true keeps untagged images without children (and digest-only ones)", async () => {
    expect(await names(["dangling=true"])).toEqual([`eeee:web@sha256:${"1".repeat(64)}`, "dddd:"]);
    expect(await names(["dangling=true"], { all: true })).not.toContain("bbbb:");
    expect(await names(["dangling=false"])).toEqual([
      `eeee:web@sha256:${"1".repeat(64)}`,
      "cccc:app:1",
      "aaaa:busybox:latest,busybox:1.36",
    ]);
  });

  it("reference=PATTERN keeps matching tags only (patterns are ORed)", async () => {
    expect(await names(["reference=busybox:1*"])).toEqual(["aaaa:busybox:1.36"]);
    expect(await names(["reference=busy*", "reference=app"])).toEqual([
      "cccc:app:1",
      "aaaa:busybox:latest,busybox:1.36",
    ]);
  });

  it("before=, since= and until= compare creation times", async () => {
    expect(await names(["before=app"])).toEqual(["aaaa:busybox:latest,busybox:1.36"]);
    expect(await names(["since=app"])).toEqual([`eeee:web@sha256:${"1".repeat(64)}`, "dddd:"]);
    expect(await names(["since=busybox", "before=dddd"])).toEqual(["cccc:app:1"]);
    expect(await names(["until=2024-02-15"])).toEqual(["aaaa:busybox:latest,busybox:1.36"]);
    expect(await names(["until=800h"])).toEqual([
      "dddd:",
      "cccc:app:1",
      "aaaa:busybox:latest,busybox:1.36",
    ]);
  });

  it("label=KEY and label=KEY=VALUE all have to match", async () => {
    expect(await names(["label=team"])).toEqual(["aaaa:busybox:latest,busybox:1.36"]);
    expect(await names(["label=team=core", "label=tier=base"])).toHaveLength(1);
    expect(await names(["label=team=other"])).toEqual([]);
  });

  it("fails on unknown filters and bad values with moby's messages", async () => {
    await expect(names(["color=red"])).rejects.toThrow("invalid filter 'color'");
    await expect(names(["dangling=maybe"])).rejects.toThrow("invalid filter 'dangling=maybe'");
    await expect(names(["before=nope"])).rejects.toThrow("No such image: nope");
    await expect(names(["until=yesterday"])).rejects.toThrow(
      'failed to parse value as time or duration: "yesterday"',
    );
  });
});
