import type { ImageRecord } from "@strata/core";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_IMAGE_TABLE,
  DEFAULT_IMAGE_TABLE_WITH_DIGEST,
  IMAGE_HEADER,
  imageContext,
  imageFormat,
} from "./image-context.js";
import { imageRows } from "./image-rows.js";
import { renderFormat } from "./template-format.js";

const now = new Date("2024-05-01T12:00:00Z");
const img: ImageRecord = {
  id: `sha256:${"ab".repeat(32)}`,
  config: { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } },
  manifestDigest: `sha256:${"f".repeat(64)}`,
  size: 4_261_550,
  created: new Date("2024-05-01T11:59:23Z"),
  repoTags: ["busybox:latest"],
  repoDigests: [`busybox@sha256:${"c".repeat(64)}`],
  layers: [],
};

describe("images --format", () => {
  it("chooses docker's formats", () => {
    expect(imageFormat("", false, false)).toBe(DEFAULT_IMAGE_TABLE);
    expect(imageFormat("table", false, true)).toBe(DEFAULT_IMAGE_TABLE_WITH_DIGEST);
    expect(imageFormat("table", true, true)).toBe("{{.ID}}");
    expect(imageFormat("{{.ID}}", true, false)).toBe("{{.ID}}");
    expect(imageFormat("table {{.ID}}", false, true)).toBe("table {{.ID}}\t{{.Digest}}");
    expect(imageFormat("raw", false, false)).toContain("virtual_size: {{.Size}}");
  });

  it("exposes docker's fields", () => {
    const [row] = imageRows([img]);
    const ctx = imageContext(row!, { sharedSize: 1_000_000, containers: 2 }, { trunc: true, now });
    expect(ctx).toEqual({
      Containers: "2",
      CreatedAt: expect.stringMatching(/^2024-05-01 \d\d:59:23 [+-]\d{4} \S+$/),
      CreatedSince: "37 seconds ago",
      Digest: "<none>",
      ID: "abababababab",
      Repository: "busybox",
      SharedSize: "1MB",
      Size: "4.26MB",
      Tag: "latest",
      UniqueSize: "3.262MB",
      VirtualSize: "4.262MB",
    });
    const noUsage = imageContext(row!, undefined, { trunc: false, now });
    expect([noUsage.SharedSize, noUsage.UniqueSize, noUsage.Containers]).toEqual([
      "N/A",
      "N/A",
      "N/A",
    ]);
    expect(noUsage.ID).toBe(img.id);
  });

  it("renders the default table exactly as docker's", async () => {
    const rows = imageRows([img]).map((r) => imageContext(r, undefined, { trunc: true, now }));
    expect(await renderFormat({ format: DEFAULT_IMAGE_TABLE, rows, header: IMAGE_HEADER })).toBe(
      "REPOSITORY   TAG       IMAGE ID       CREATED          SIZE\n" +
        "busybox      latest    abababababab   37 seconds ago   4.26MB\n",
    );
  });

  it("shows digests per tag when the format uses {{.Digest}}", async () => {
    const rows = imageRows([img], { needDigest: true }).map((r) =>
      imageContext(r, undefined, { trunc: true, now }),
    );
    expect(await renderFormat({ format: "{{.Tag}} {{.Digest}}", rows, header: IMAGE_HEADER })).toBe(
      `latest sha256:${"c".repeat(64)}\n`,
    );
  });
});
