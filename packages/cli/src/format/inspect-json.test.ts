import { describe, expect, it } from "vitest";
import { inspectJson } from "./inspect-json.js";

describe("inspectJson (Go json.MarshalIndent with 4 spaces)", () => {
  it("indents with four spaces and ends with a newline", () => {
    expect(inspectJson([{ Id: "sha256:x", RepoTags: ["a:b"] }])).toBe(
      '[\n    {\n        "Id": "sha256:x",\n        "RepoTags": [\n            "a:b"\n        ]\n    }\n]\n',
    );
  });

  it("prints an empty list as []", () => {
    expect(inspectJson([])).toBe("[]\n");
  });

  it("escapes <, > and & like Go's HTML-safe encoder", () => {
    expect(inspectJson({ c: "a && b <none>" })).toBe(
      '{\n    "c": "a \\u0026\\u0026 b \\u003cnone\\u003e"\n}\n',
    );
    expect(JSON.parse(inspectJson({ c: "a && b <none>" }))).toEqual({ c: "a && b <none>" });
  });
});
