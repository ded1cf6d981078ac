/**
 * Re-exports of tsyringe's decorators so that the whole process shares one copy of
 * tsyringe (drivers import these from `@strata/core`, never from tsyringe directly).
 */

export type { DependencyContainer, InjectionToken } from "tsyringe";
export { container as rootContainer, inject, injectAll, injectable, singleton } from "tsyringe";
