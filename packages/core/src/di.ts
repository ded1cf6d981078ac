/**
 * Re-exports of tsyringe's decorators so that the whole process shares one copy of
 * tsyringe (drivers import these from `@strata/core`, never from tsyringe directly).
 */
export { inject, injectable, injectAll, singleton, container as rootContainer } from "tsyringe";
export type { DependencyContainer, InjectionToken } from "tsyringe";
