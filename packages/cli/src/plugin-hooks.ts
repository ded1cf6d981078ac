/**
 * Module customization hooks (`module.register`) installed before strata imports a driver
 * plugin: `@strata/core` and `@strata/core/testing` resolve to strata's own copy, whatever
 * copy npm put next to the plugin (see `shareCore` in driver-plugins.ts). Runs on Node's
 * hooks thread; everything else resolves as usual.
 */

interface HookData {
  core: string;
  testing: string;
}

let shared: HookData | undefined;

/** Receive the URLs of strata's own core entry points. */
export function initialize(data: HookData): void {
  shared = data;
}

type NextResolve = (
  specifier: string,
  context: unknown,
) => Promise<{ url: string; format?: string | null }>;

/** Redirect core's two entry points; pass everything else on. */
export async function resolve(
  specifier: string,
  context: unknown,
  nextResolve: NextResolve,
): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  if (shared && specifier === "@strata/core") return { url: shared.core, shortCircuit: true };
  if (shared && specifier === "@strata/core/testing") {
    return { url: shared.testing, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
