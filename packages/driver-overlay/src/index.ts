/**
 * `@strata/driver-overlay`: the kernel overlayfs storage driver.
 *
 * Not written yet (issue #3). Until it is, the module is an honest not-supported driver:
 * `probe` and `register` throw {@link NotSupportedError}, so auto-selection moves on to
 * the next driver and `--storage-driver overlay` fails with a clear message.
 */
import { DRIVER_CONTRACT_VERSION, type DriverModule, NotSupportedError } from "@strata/core";

const NOT_IMPLEMENTED = "overlay: not implemented yet (issue #3)";

/** The overlay driver's module; currently reports that it is not implemented. */
export const overlayDriver: DriverModule = {
  name: "overlay",
  contractVersion: DRIVER_CONTRACT_VERSION,
  priority: 100,
  async probe(): Promise<void> {
    throw new NotSupportedError(NOT_IMPLEMENTED);
  },
  register(): void {
    throw new NotSupportedError(NOT_IMPLEMENTED);
  },
};
