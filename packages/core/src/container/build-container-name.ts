import { randomBytes } from "node:crypto";

/**
 * The name of a container a build's RUN step makes: `strata-build-<pid>-<hex>`. The builder
 * removes it when the step ends; the pid tells the next start that a build was killed
 * mid-step, so its container is removed then ({@link buildContainerOwner}).
 */
export function buildContainerName(): string {
  return `strata-build-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** The pid of the build that made a container named by {@link buildContainerName}, else undefined. */
export function buildContainerOwner(name: string): number | undefined {
  const m = /^strata-build-(\d+)-[0-9a-f]+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
