import type { SelectionStrategy } from '../core/selection-strategy.interface';
import { CallHashStrategy } from './call-hash.strategy';
import { LeastLoadedStrategy } from './least-loaded.strategy';
import { PowerOfTwoStrategy } from './power-of-two.strategy';
import { RoundRobinStrategy } from './round-robin.strategy';
import { WeightedStrategy } from './weighted.strategy';

/** What a built-in strategy may need to be built. */
export interface StrategyDeps {
  /** Uniform random number in [0, 1). */
  random: () => number;
}

/** Built-in strategies by the name `RTP_SELECTION_STRATEGY` takes. */
export const BUILTIN_STRATEGIES: Record<string, (deps: StrategyDeps) => SelectionStrategy> = {
  'least-loaded': () => new LeastLoadedStrategy(),
  weighted: () => new WeightedStrategy(),
  'power-of-two': (deps) => new PowerOfTwoStrategy(deps.random),
  'round-robin': () => new RoundRobinStrategy(),
  'call-hash': () => new CallHashStrategy(),
};

export function builtinStrategy(name: string, deps: StrategyDeps): SelectionStrategy {
  const make = Object.hasOwn(BUILTIN_STRATEGIES, name) ? BUILTIN_STRATEGIES[name] : undefined;
  if (!make) {
    throw new Error(`unknown selection strategy "${name}" (one of: ${Object.keys(BUILTIN_STRATEGIES).join(', ')})`);
  }
  return make(deps);
}
