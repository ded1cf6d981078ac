import type { RegistryOptions } from "@strata/core";
import type { GlobalOptions } from "./global-options.js";
import { VERSION } from "./version.js";

/**
 * The registry options of one invocation: `--config` (else `$STRATA_CONFIG`, else
 * `~/.strata`), `--insecure-registry` and `--registry-mirror`, merged with the config
 * directory's `registries.json` (docker's `daemon.json` keys).
 * @throws InvalidArgumentError for a malformed `registries.json`.
 */
export async function registryOptions(
  globals: GlobalOptions,
  env: Record<string, string | undefined>,
): Promise<RegistryOptions> {
  const { defaultConfigDir, dockerConfigFile, loadRegistryOptions } = await import("@strata/core");
  return loadRegistryOptions({
    configDir: globals.config ?? defaultConfigDir(env),
    insecureRegistries: globals.insecureRegistries,
    mirrors: globals.registryMirrors,
    dockerConfigFile: dockerConfigFile(env),
    userAgent: `strata/${VERSION}`,
  });
}
