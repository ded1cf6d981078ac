import type { DiskUsageReport } from "@strata/core";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_DISK_USAGE_TABLE,
  DISK_USAGE_HEADER,
  diskUsageRows,
} from "./disk-usage-context.js";
import { renderFormat } from "./template-format.js";

describe("system df rows", () => {
  it("words sizes and reclaimable percentages as docker does", async () => {
    const du = {
      images: [{}, {}, {}],
      layersSize: 4_261_550,
      imagesReclaimable: 1_000_000,
      activeImages: 1,
      containers: [{}],
      containersSize: 1234,
      containersReclaimable: 0,
      activeContainers: 1,
      buildCacheSize: 0,
    } as unknown as DiskUsageReport;
    const out = await renderFormat({
      format: DEFAULT_DISK_USAGE_TABLE,
      rows: diskUsageRows(du),
      header: DISK_USAGE_HEADER,
    });
    expect(out).toBe(
      "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n" +
        "Images          3         1         4.262MB   1MB (23%)\n" +
        "Containers      1         1         1.234kB   0B (0%)\n" +
        "Local Volumes   0         0         0B        0B\n" +
        "Build Cache     0         0         0B        0B\n",
    );
  });
});
