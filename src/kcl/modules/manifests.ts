/** The `manifests` system module: `yaml_stream` replaces the program output with documents. */
import { emitYamlStream } from '../emitter.ts';
import {
  KclRuntimeError,
  configEntries,
  isConfig,
  truthy,
  type KclModule,
  type KclValue,
} from '../values.ts';
import { iterate } from '../builtins/core.ts';
import type { ModuleContext } from './context.ts';
import { defineModule } from './define.ts';

function option(opts: KclValue | undefined, name: string): KclValue | undefined {
  if (opts === undefined || opts === null || !isConfig(opts)) return undefined;
  return configEntries(opts).get(name);
}

export function manifestsModule(ctx: ModuleContext): KclModule {
  return defineModule('manifests', {
    yaml_stream: (a) => {
      const values = iterate(a.required(0, 'values'), 'yaml_stream');
      const opts = a.get(1, 'opts');
      if (opts !== undefined && opts !== null && !isConfig(opts)) {
        throw new KclRuntimeError("yaml_stream() argument 'opts' must be a dict");
      }
      const flag = (name: string, fallback: boolean) => {
        const v = option(opts, name);
        return v === undefined ? fallback : truthy(v);
      };
      const sep = option(opts, 'sep');
      const text = emitYamlStream(
        values,
        {
          sortKeys: flag('sort_keys', false),
          showHidden: !flag('ignore_private', true),
          omitNone: flag('ignore_none', false),
        },
        typeof sep === 'string' ? sep : '---',
      );
      ctx.setStreamOutput(text);
      return null;
    },
  });
}
