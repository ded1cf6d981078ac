/**
 * `@strata/driver-aufs`: AUFS-semantics union filesystem served over FUSE.
 *
 * Not written yet (issue #8). Until it is, the module is an honest not-supported driver:
 * `probe` and `register` throw {@link NotSupportedError}, so auto-selection moves on to
 * the next driver and `--storage-driver aufs` fails with a clear message.
 */
import { DRIVER_CONTRACT_VERSION, type DriverModule, NotSupportedError } from "@strata/core";

const NOT_IMPLEMENTED = "aufs: not implemented yet (issue #8)";

/** The aufs driver's module; currently reports that it is not implemented. */
export const aufsDriver: DriverModule = {
  name: "aufs",
  contractVersion: DRIVER_CONTRACT_VERSION,
  priority: 200,
  async probe(): Promise<void> {
    throw new NotSupportedError(NOT_IMPLEMENTED);
  },
  register(): void {
    throw new NotSupportedError(NOT_IMPLEMENTED);
  },
};
