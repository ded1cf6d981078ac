import * as path from "node:path";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { DRIVER_CONTRACT_VERSION, type DriverContext, type DriverModule } from "./driver-module.js";

/** The outcome of {@link selectDriver}. */
export interface DriverSelection {
  module: DriverModule;
  context: DriverContext;
  /** Why drivers tried before the chosen one were passed over (auto-selection only). */
  skipped: { name: string; reason: string }[];
  /** How the driver was chosen. */
  how: "requested" | "last-used" | "auto";
}

/** Inputs of {@link selectDriver}. */
export interface SelectDriverOptions {
  /** Driver modules available (built-in and loaded). */
  modules: readonly DriverModule[];
  /** The store root. */
  storeRoot: string;
  /** `--storage-driver`, when given. */
  requested?: string;
  /** The driver this store used last, when it has one. */
  lastUsed?: string;
  /** `--storage-opt` values. */
  options?: Record<string, string>;
}

function contextFor(m: DriverModule, o: SelectDriverOptions): DriverContext {
  return {
    name: m.name,
    storeRoot: o.storeRoot,
    root: path.join(o.storeRoot, m.name),
    options: o.options ?? {},
  };
}

function checkVersion(m: DriverModule): void {
  if (m.contractVersion !== DRIVER_CONTRACT_VERSION) {
    throw new NotSupportedError(
      `storage driver "${m.name}": written for driver contract ${m.contractVersion}, this strata implements ${DRIVER_CONTRACT_VERSION}`,
    );
  }
}

/**
 * Choose the storage driver (containers/storage's `New`): the requested one when given
 * (it must work); else the one this store used last, when it still works; else the first
 * by priority whose probe passes. `NotSupportedError` from a probe means "try the next".
 * @throws InvalidArgumentError for an unknown driver name (the message lists the known ones).
 * @throws NotSupportedError when the requested driver cannot work here, or none can.
 */
export async function selectDriver(o: SelectDriverOptions): Promise<DriverSelection> {
  const byName = new Map(o.modules.map((m) => [m.name, m]));
  const known = [...byName.keys()].sort().join(", ");
  if (o.requested !== undefined) {
    const m = byName.get(o.requested);
    if (!m)
      throw new InvalidArgumentError(
        `unknown storage driver "${o.requested}" (available: ${known})`,
      );
    checkVersion(m);
    const context = contextFor(m, o);
    await m.probe(context);
    return { module: m, context, skipped: [], how: "requested" };
  }
  const skipped: { name: string; reason: string }[] = [];
  const last = o.lastUsed !== undefined ? byName.get(o.lastUsed) : undefined;
  const order = [...o.modules].sort((a, b) => a.priority - b.priority);
  for (const m of last ? [last, ...order.filter((x) => x !== last)] : order) {
    const context = contextFor(m, o);
    try {
      checkVersion(m);
      await m.probe(context);
      return { module: m, context, skipped, how: m === last ? "last-used" : "auto" };
    } catch (err) {
      if (!(err instanceof NotSupportedError)) throw err;
      skipped.push({ name: m.name, reason: err.message });
    }
  }
  throw new NotSupportedError(
    `no storage driver works here: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`,
  );
}
