import { describe, expect, it } from "vitest";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "../errors.js";
import { registryError, registryErrorInfo, registryErrorText } from "./error-response.js";

describe("registry error bodies", () => {
  it("words them as docker does", () => {
    const body = JSON.stringify({
      errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: {} }],
    });
    expect(registryErrorText(404, body)).toBe("manifest unknown: manifest unknown");
    expect(registryErrorText(401, "")).toBe("unauthorized: authentication required");
    const two = JSON.stringify({
      errors: [
        { code: "DENIED", message: "no" },
        { code: "UNAUTHORIZED", message: "x" },
      ],
    });
    expect(registryErrorText(403, two)).toBe("errors:\ndenied: no\nunauthorized: x\n");
  });

  it("maps statuses to strata's error categories, keeping the codes", () => {
    expect(registryError(404, "")).toBeInstanceOf(NotFoundError);
    expect(registryError(401, "")).toBeInstanceOf(FailedPreconditionError);
    expect(registryError(503, "")).toBeInstanceOf(UnavailableError);
    expect(registryError(400, "")).toBeInstanceOf(InvalidArgumentError);
    const err = registryError(
      404,
      JSON.stringify({ errors: [{ code: "NAME_UNKNOWN" }] }),
      "manifest for x",
    );
    expect(err.message).toBe("manifest for x: name unknown");
    expect(registryErrorInfo(err)).toEqual({ status: 404, errors: [{ code: "NAME_UNKNOWN" }] });
  });
});
