import type { InjectionToken } from "@strata/core";
import { Command } from "clipanion";
import type { StrataContext } from "../context.js";

/** The `@strata/core` module, loaded on demand. */
export type Core = typeof import("@strata/core");

/**
 * Base class of strata's commands: clipanion's `Command` with strata's context and two
 * helpers that keep commands thin (parse, resolve a service, render).
 */
export abstract class StrataCommand extends Command<StrataContext> {
  /**
   * Resolve a service from the composition root. `pick` names it from core, which is
   * loaded lazily: `const images = await this.service((core) => core.ImageStore);`.
   */
  protected async service<T>(pick: (core: Core) => InjectionToken<T>): Promise<T> {
    const [core, container] = await Promise.all([import("@strata/core"), this.context.container()]);
    return container.resolve(pick(core));
  }

  /** Write text to stdout. */
  protected print(text: string): void {
    this.context.stdout.write(text);
  }
}
