/**
 * One World seen through another: what a verifier knows, with some answers replaced (a fork candidate
 * judged as of its parent, a chain's own earlier states during chain verification, one head read answering
 * both fork questions). The only way the services and the verifier overlay a World.
 */
import type { World } from './verify.js';

/** Every method of World, optional ones included: a method added to World must be listed here to compile. */
const METHODS: Record<keyof World, true> = {
  tokenDefinition: true,
  tokenCreation: true,
  policy: true,
  acceptedState: true,
  isForked: true,
  forkHeight: true,
  conflictingState: true,
  validPolicy: true,
};

type Method = (...args: unknown[]) => unknown;

/**
 * A World answering from `overrides` where it has a method, otherwise from `base`. Free of `this`: every
 * method of the result may be called detached, a base method runs as a method of `base` (a class-based World
 * keeps its fields), an override as a method of `overrides`; each is looked up when called. An optional
 * method (`forkHeight`, `validPolicy`) is present only when one of the two has it. Only the methods of World
 * are carried over.
 */
export function overlayWorld(base: World, overrides: Partial<World>): World {
  const world: Partial<Record<keyof World, Method>> = {};
  for (const name of Object.keys(METHODS) as (keyof World)[]) {
    const source: Partial<World> | undefined =
      overrides[name] !== undefined ? overrides : base[name] !== undefined ? base : undefined;
    if (source !== undefined) world[name] = (...args) => (source[name] as Method).apply(source, args);
  }
  return world as World;
}
