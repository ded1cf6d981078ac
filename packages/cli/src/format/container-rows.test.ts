import type { ContainerRecord } from "@strata/core";
import { describe, expect, it } from "vitest";
import {
  type ContainerListItem,
  containerCommandCell,
  containerStatus,
  containerTable,
} from "./container-rows.js";
import { formatTable } from "./table-writer.js";

const now = new Date("2024-05-01T12:00:00Z");

function item(state: ContainerRecord["state"], paused = false): ContainerListItem {
  const rec: ContainerRecord = {
    id: "0123456789ab".padEnd(64, "c"),
    name: "web",
    imageId: `sha256:${"f".repeat(64)}`,
    driver: "vfs",
    created: new Date("2024-05-01T11:59:50Z"),
    config: { Cmd: ["sh", "-c", "echo $HOSTNAME; sleep 100"], Image: "busybox" },
    hostConfig: { binds: [], networkMode: "none", autoRemove: false },
    state,
  };
  return { rec, paused, image: "busybox" };
}

describe("docker ps columns", () => {
  it("words STATUS as docker does", () => {
    expect(containerStatus(item({ status: "created" }), now)).toBe("Created");
    expect(
      containerStatus(item({ status: "running", startedAt: "2024-05-01T11:59:57Z" }), now),
    ).toBe("Up 3 seconds");
    expect(
      containerStatus(item({ status: "running", startedAt: "2024-05-01T11:59:59.5Z" }, true), now),
    ).toBe("Up Less than a second (Paused)");
    expect(
      containerStatus(
        item({ status: "exited", exitCode: 137, finishedAt: "2024-05-01T11:58:00Z" }),
        now,
      ),
    ).toBe("Exited (137) 2 minutes ago");
  });

  it("quotes COMMAND and cuts it to 20 columns unless --no-trunc", () => {
    const { rec } = item({ status: "created" });
    expect(containerCommandCell(rec)).toBe('"sh -c echo $HOSTNAM…"');
    expect(containerCommandCell(rec, true)).toBe('"sh -c echo $HOSTNAME; sleep 100"');
  });

  it("lays the table out with docker's columns", () => {
    const out = formatTable(
      containerTable([item({ status: "running", startedAt: "2024-05-01T11:59:57Z" })], { now }),
    );
    expect(out).toBe(
      "CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS         PORTS     NAMES\n" +
        '0123456789ab   busybox   "sh -c echo $HOSTNAM…"   10 seconds ago   Up 3 seconds             web\n',
    );
  });
});
