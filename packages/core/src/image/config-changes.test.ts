import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { applyConfigChanges, emptyContainerConfig } from "./config-changes.js";

describe("applyConfigChanges", () => {
  it("applies docker import's change instructions", () => {
    const cfg = applyConfigChanges(emptyContainerConfig(), [
      'CMD ["/bin/sh", "-c", "echo hi"]',
      "ENTRYPOINT /init --flag",
      'ENV A=b C="d e"',
      "ENV LEGACY value with spaces",
      "env A=z",
      "LABEL org.x=1 y=two",
      "EXPOSE 80 53/udp",
      'VOLUME ["/data"]',
      "USER 1000:1000",
      "WORKDIR /srv",
      "WORKDIR app",
      "STOPSIGNAL SIGINT",
      "HEALTHCHECK CMD curl -f http://x/",
    ]);
    expect(cfg.Cmd).toEqual(["/bin/sh", "-c", "echo hi"]);
    expect(cfg.Entrypoint).toEqual(["/bin/sh", "-c", "/init --flag"]);
    expect(cfg.Env).toEqual(["A=z", "C=d e", "LEGACY=value with spaces"]);
    expect(cfg.Labels).toEqual({ "org.x": "1", y: "two" });
    expect(cfg.ExposedPorts).toEqual({ "80/tcp": {}, "53/udp": {} });
    expect(cfg.Volumes).toEqual({ "/data": {} });
    expect(cfg.User).toBe("1000:1000");
    expect(cfg.WorkingDir).toBe("/srv/app");
    expect(cfg.StopSignal).toBe("SIGINT");
    expect(cfg.Healthcheck).toEqual({ Test: ["CMD-SHELL", "curl -f http://x/"] });
  });

  it("refuses instructions docker does not allow in a change", () => {
    expect(() => applyConfigChanges(emptyContainerConfig(), ["RUN echo"])).toThrow(
      InvalidArgumentError,
    );
    expect(() => applyConfigChanges(emptyContainerConfig(), ["FROM x"])).toThrow(
      "FROM is not a valid change command",
    );
    expect(() => applyConfigChanges(emptyContainerConfig(), ["EXPOSE abc"])).toThrow(
      "invalid port",
    );
  });

  it("does not modify the base config", () => {
    const base = emptyContainerConfig();
    applyConfigChanges(base, ["ENV A=b"]);
    expect(base.Env).toBeNull();
  });
});
