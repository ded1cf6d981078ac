// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables are the subject here
import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../dockerfile/dockerfile-parser.js";
import { createShellWordExpander } from "../dockerfile/shell-word-expander.js";
import { emptyContainerConfig } from "../image/config-changes.js";
import { applyMetadata, type StageState, stepEnv } from "./build-state.js";

function stage(): StageState {
  return {
    imageId: undefined,
    config: {
      architecture: "amd64",
      os: "linux",
      config: { ...emptyContainerConfig(), Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [] },
    },
    layers: [],
    args: new Map(),
  };
}

/** Apply each instruction of a one-stage Dockerfile; returns the comments docker records. */
function apply(text: string, state = stage(), buildArgs: Record<string, string> = {}): string[] {
  const df = parseDockerfile(`FROM scratch\n${text}`);
  const x = createShellWordExpander();
  return df.stages[0]!.instructions.map((i) => applyMetadata(i, state, x, buildArgs));
}

describe("applyMetadata: docker's classic builder comments and config changes", () => {
  it("ENV and LABEL expand variables, ENV overriding ARG", () => {
    const s = stage();
    const comments = apply(
      'ARG V=1\nENV A=x-${V} B="two words"\nLABEL app=${A} v=$V\nENV V=env\nLABEL w=$V',
      s,
      { V: "9" },
    );
    expect(comments).toEqual([
      "ARG V=1",
      "ENV A=x-9 B=two words",
      "LABEL app=x-9 v=9",
      "ENV V=env",
      "LABEL w=env",
    ]);
    expect(s.config.config?.Env).toEqual(["A=x-9", "B=two words", "V=env"]);
    expect(s.config.config?.Labels).toEqual({ app: "x-9", v: "9", w: "env" });
    expect(stepEnv(s, {}).get("V")).toBe("env");
  });

  it("CMD and ENTRYPOINT in both forms; ENTRYPOINT drops an inherited CMD", () => {
    const s = stage();
    expect(apply('ENTRYPOINT ["/bin/app"]', s)).toEqual(['ENTRYPOINT ["/bin/app"]']);
    expect(s.config.config?.Cmd).toBeNull();
    expect(apply("CMD echo hi", s)).toEqual(['CMD ["/bin/sh" "-c" "echo hi"]']);
    expect(apply('SHELL ["/bin/bash", "-c"]\nENTRYPOINT run it', s)).toEqual([
      "SHELL [/bin/bash -c]",
      'ENTRYPOINT ["/bin/bash" "-c" "run it"]',
    ]);
    expect(s.config.config?.Cmd).toEqual(["/bin/sh", "-c", "echo hi"]); // CMD set in this stage
  });

  it("EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER", () => {
    const s = stage();
    const comments = apply(
      [
        "EXPOSE 80 53/udp 8000-8001",
        'VOLUME ["/data", "/logs"]',
        "USER app:app",
        "WORKDIR /srv",
        "WORKDIR sub/../web",
        "STOPSIGNAL SIGINT",
        "HEALTHCHECK --interval=5m --timeout=3s --retries=2 CMD curl -f http://x/ || exit 1",
        "ONBUILD RUN echo child",
        "MAINTAINER someone",
      ].join("\n"),
      s,
    );
    expect(comments).toEqual([
      "EXPOSE 80 53/udp 8000-8001",
      "VOLUME [/data /logs]",
      "USER app:app",
      "WORKDIR /srv",
      "WORKDIR /srv/web",
      "STOPSIGNAL SIGINT",
      `HEALTHCHECK &{["CMD-SHELL" "curl -f http://x/ || exit 1"] "5m0s" "3s" "0s" "0s" '\\x02'}`,
      "ONBUILD RUN echo child",
      "MAINTAINER someone",
    ]);
    const cfg = s.config.config!;
    expect(cfg.ExposedPorts).toEqual({
      "80/tcp": {},
      "53/udp": {},
      "8000/tcp": {},
      "8001/tcp": {},
    });
    expect(cfg.Volumes).toEqual({ "/data": {}, "/logs": {} });
    expect(cfg.Healthcheck).toEqual({
      Test: ["CMD-SHELL", "curl -f http://x/ || exit 1"],
      Interval: 300e9,
      Timeout: 3e9,
      Retries: 2,
    });
    expect(cfg.OnBuild).toEqual(["RUN echo child"]);
    expect(s.config.author).toBe("someone");
  });
});
