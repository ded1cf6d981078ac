import type { ImageRecord } from "@strata/core";
import { describe, expect, it } from "vitest";
import { imageIds, imageRows, imageTable, referenceMatches, splitTag } from "./image-rows.js";
import { formatTable } from "./table-writer.js";

const now = new Date("2024-05-01T12:00:00Z");

function image(
  id: string,
  created: string,
  repoTags: string[],
  extra: Partial<ImageRecord> = {},
): ImageRecord {
  return {
    id: `sha256:${id.padEnd(64, "0")}`,
    config: { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } },
    manifestDigest: `sha256:${"f".repeat(64)}`,
    size: 4_400_000,
    created: new Date(created),
    repoTags,
    repoDigests: [],
    layers: [],
    ...extra,
  };
}

describe("imageRows", () => {
  const old = image("aaaa", "2024-04-17T12:00:00Z", ["busybox:1.36", "busybox:latest", "mybox:v1"]);
  const fresh = image("bbbb", "2024-05-01T11:57:00Z", ["alpine:3"]);
  const dangling = image("cccc", "2024-04-30T12:00:00Z", []);

  it("lists newest first, one row per tag, untagged as <none>", () => {
    const rows = imageRows([old, dangling, fresh]);
    expect(rows.map((r) => `${r.repository}:${r.tag}`)).toEqual([
      "alpine:3",
      "<none>:<none>",
      "busybox:1.36",
      "busybox:latest",
      "mybox:v1",
    ]);
  });

  it("renders docker's columns", () => {
    const out = formatTable(imageTable(imageRows([fresh, dangling]), { now }));
    expect(out).toBe(
      "REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\n" +
        "alpine       3         bbbb00000000   3 minutes ago   4.4MB\n" +
        "<none>       <none>    cccc00000000   24 hours ago    4.4MB\n",
    );
  });

  it("prints full IDs with --no-trunc and a DIGEST column with --digests", () => {
    const withDigest = image("dddd", "2024-05-01T11:00:00Z", ["app:1"], {
      repoDigests: [`app@sha256:${"e".repeat(64)}`, `other@sha256:${"9".repeat(64)}`],
    });
    const rows = imageRows([withDigest], { digests: true });
    expect(rows.map((r) => [r.repository, r.tag, r.digest])).toEqual([
      ["app", "1", `sha256:${"e".repeat(64)}`],
      ["other", "<none>", `sha256:${"9".repeat(64)}`],
    ]);
    const table = imageTable(rows, { digests: true, noTrunc: true, now });
    expect(table[0]).toEqual(["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]);
    expect(table[1]?.[3]).toBe(withDigest.id);
    // Without --digests the digest-only repository still gets a row, with an empty digest.
    expect(imageRows([withDigest]).map((r) => [r.repository, r.tag])).toEqual([
      ["app", "1"],
      ["other", "<none>"],
    ]);
  });

  it("hides intermediate images unless -a", () => {
    const parent = image("eeee", "2024-04-01T00:00:00Z", []);
    const child = image("ffff", "2024-04-02T00:00:00Z", ["app:2"], { parent: parent.id });
    expect(imageRows([parent, child]).map((r) => r.image.id)).toEqual([child.id]);
    expect(imageRows([parent, child], { all: true }).map((r) => r.image.id)).toEqual([
      child.id,
      parent.id,
    ]);
  });

  it("filters by REPOSITORY[:TAG] patterns, dropping untagged images", () => {
    const list = [old, fresh, dangling];
    const tags = (ref: string) =>
      imageRows(list, { reference: ref }).map((r) => `${r.repository}:${r.tag}`);
    expect(tags("busybox")).toEqual(["busybox:1.36", "busybox:latest"]);
    expect(tags("busybox:latest")).toEqual(["busybox:latest"]);
    expect(tags("*box")).toEqual(["busybox:1.36", "busybox:latest", "mybox:v1"]);
    expect(tags("nothing")).toEqual([]);
  });

  it("-q lists the ID of every row, as docker does", () => {
    const rows = imageRows([old, fresh]);
    expect(imageIds(rows)).toEqual(rows.map((r) => r.image.id.slice(7, 19)));
    expect(new Set(imageIds(rows))).toEqual(new Set(["bbbb00000000", "aaaa00000000"]));
    expect(imageIds(imageRows([old]), true)).toEqual([old.id, old.id, old.id]); // three tags, three rows
  });
});

describe("reference helpers", () => {
  it("splits tags after the last slash only", () => {
    expect(splitTag("localhost:5000/a/b:t")).toEqual({ name: "localhost:5000/a/b", tag: "t" });
    expect(splitTag("localhost:5000/a/b")).toEqual({ name: "localhost:5000/a/b" });
  });

  it("matches the full reference, then the name", () => {
    expect(referenceMatches("busybox", "busybox:latest")).toBe(true);
    expect(referenceMatches("busybox:1", "busybox:latest")).toBe(false);
  });
});
