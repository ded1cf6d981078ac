import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate } from "./www-authenticate.js";

describe("parseWwwAuthenticate", () => {
  it("reads a Bearer challenge with quoted parameters", () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/busybox:pull",
        },
      },
    ]);
  });

  it("reads Basic, several challenges in one value, escapes and unquoted values", () => {
    expect(
      parseWwwAuthenticate('Basic realm="a, \\"b\\"", Bearer realm=x,error=insufficient_scope'),
    ).toEqual([
      { scheme: "basic", params: { realm: 'a, "b"' } },
      { scheme: "bearer", params: { realm: "x", error: "insufficient_scope" } },
    ]);
    expect(
      parseWwwAuthenticate(["Basic realm=r1", "Bearer realm=r2"]).map((c) => c.scheme),
    ).toEqual(["basic", "bearer"]);
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });
});
