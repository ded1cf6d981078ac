import { NotSupportedError, rootContainer } from "@strata/core";
import { describe, expect, it } from "vitest";
import { aufsDriver } from "./index.js";

const ctx = { name: "aufs", storeRoot: "/nonexistent", root: "/nonexistent/aufs", options: {} };

describe("aufsDriver (placeholder until issue #8)", () => {
  it("probe reports not supported, so auto-selection skips it", async () => {
    await expect(aufsDriver.probe(ctx)).rejects.toBeInstanceOf(NotSupportedError);
    await expect(aufsDriver.probe(ctx)).rejects.toThrow("aufs: not implemented yet (issue #8)");
  });

  it("register refuses instead of binding a fake snapshotter", () => {
    const child = rootContainer.createChildContainer();
    expect(() => aufsDriver.register(child, ctx)).toThrow(NotSupportedError);
  });
});
