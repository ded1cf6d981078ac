import { describe, expect, it } from "vitest";
import { HISTORY_HEADER, historyContext, historyFormat } from "./history-context.js";
import { renderFormat } from "./template-format.js";

const now = new Date("2024-05-01T12:00:00Z");
const item = {
  id: `sha256:${"d".repeat(64)}`,
  created: new Date("2024-04-30T12:00:00Z"),
  createdBy: '/bin/sh -c #(nop)\tCMD ["sh"] with a long tail that docker cuts off',
  size: 1_234_567,
  comment: "imported",
  tags: [],
};

describe("history --format", () => {
  it("exposes docker's fields, truncated and human by default", () => {
    expect(historyContext(item, { trunc: true, human: true, now })).toEqual({
      Comment: "imported",
      CreatedAt: expect.stringMatching(/^2024-04-30T/),
      CreatedBy: '/bin/sh -c #(nop) CMD ["sh"] with a long tai…',
      CreatedSince: "24 hours ago",
      ID: "dddddddddddd",
      Size: "1.23MB",
    });
    const raw = historyContext(item, { trunc: false, human: false, now });
    expect(raw.Size).toBe("1234567");
    expect(raw.CreatedSince).toBe(raw.CreatedAt);
  });

  it("renders a custom table", async () => {
    const rows = [historyContext(item, { trunc: true, human: true, now })];
    expect(
      await renderFormat({ format: "table {{.ID}}\t{{.Size}}", rows, header: HISTORY_HEADER }),
    ).toBe("IMAGE          SIZE\ndddddddddddd   1.23MB\n");
    expect(historyFormat("", true, true)).toBe("{{.ID}}");
    expect(historyFormat("table", false, false)).toContain("{{.CreatedAt}}");
  });
});
