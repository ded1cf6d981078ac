import { NotSupportedError, rootContainer } from "@strata/core";
import { describe, expect, it } from "vitest";
import { overlayDriver } from "./index.js";

const ctx = {
  name: "overlay",
  storeRoot: "/nonexistent",
  root: "/nonexistent/overlay",
  options: {},
};

describe("overlayDriver (placeholder until issue #3)", () => {
  it("probe reports not supported, so auto-selection skips it", async () => {
    await expect(overlayDriver.probe(ctx)).rejects.toBeInstanceOf(NotSupportedError);
    await expect(overlayDriver.probe(ctx)).rejects.toThrow(
      "overlay: not implemented yet (issue #3)",
    );
  });

  it("register refuses instead of binding a fake snapshotter", () => {
    const child = rootContainer.createChildContainer();
    expect(() => overlayDriver.register(child, ctx)).toThrow(NotSupportedError);
  });
});
