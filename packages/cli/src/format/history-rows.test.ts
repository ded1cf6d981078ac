import type { ImageHistoryItem } from "@strata/core";
import { describe, expect, it } from "vitest";
import { historyId, historyTable } from "./history-rows.js";
import { formatTable } from "./table-writer.js";

const now = new Date("2024-05-01T12:00:00Z");
const id = `sha256:${"ab".repeat(32)}`;
const items: ImageHistoryItem[] = [
  {
    id,
    created: new Date("2024-05-01T11:59:30Z"),
    createdBy: '/bin/sh -c #(nop)\tCMD ["/bin/sh"] && echo a very long command line indeed',
    size: 0,
    comment: "",
    tags: ["busybox:latest"],
  },
  {
    id: "<missing>",
    created: new Date("2024-05-01T11:00:00Z"),
    createdBy: "",
    size: 4_400_000,
    comment: "Imported from -",
    tags: [],
  },
];

describe("historyTable", () => {
  it("renders docker's human columns, cutting CREATED BY to 45 with …", () => {
    expect(formatTable(historyTable(items, { now }))).toBe(
      "IMAGE          CREATED             CREATED BY                                      SIZE      COMMENT\n" +
        'abababababab   30 seconds ago      /bin/sh -c #(nop) CMD ["/bin/sh"] && echo a …   0B        \n' +
        "<missing>      About an hour ago                                                   4.4MB     Imported from -\n",
    );
  });

  it("prints RFC 3339 times, byte sizes and full values with -H=false --no-trunc", () => {
    const [header, first, second] = historyTable(items, { human: false, noTrunc: true, now });
    expect(header).toEqual(["IMAGE", "CREATED AT", "CREATED BY", "SIZE", "COMMENT"]);
    expect(first?.[0]).toBe(id);
    expect(first?.[2]).toBe(
      '/bin/sh -c #(nop) CMD ["/bin/sh"] && echo a very long command line indeed',
    );
    expect(second?.[3]).toBe("4400000");
    expect(new Date(second?.[1] ?? "").getTime()).toBe(items[1]?.created.getTime());
  });

  it("leaves CREATED empty for dates up to 2000-01-01, as docker", () => {
    const old = { ...items[1]!, created: new Date(0) };
    expect(historyTable([old], { now })[1]?.[1]).toBe("");
  });

  it("gives -q IDs, truncated unless --no-trunc", () => {
    expect(items.map((h) => historyId(h))).toEqual(["abababababab", "<missing>"]);
    expect(historyId(items[0]!, true)).toBe(id);
  });
});
