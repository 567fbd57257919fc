/** Building a system module from plain functions that read their arguments via {@link Args}. */
import { makeFunction, makeModule, type KclModule, type KclValue } from '../values.ts';
import { withArgs, type Args } from '../builtins/args.ts';

export type ModuleMember = ((args: Args) => KclValue) | KclValue;

export function defineModule(name: string, members: Record<string, ModuleMember>): KclModule {
  return makeModule(
    name,
    Object.entries(members).map(([member, value]) => [
      member,
      typeof value === 'function' ? makeFunction(member, withArgs(member, value)) : value,
    ]),
  );
}
