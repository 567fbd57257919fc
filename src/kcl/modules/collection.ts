/** The `collection` system module. */
import { KclDict, deepCopy, isConfig, typeError, typeName, union, type KclModule } from '../values.ts';
import { iterate } from '../builtins/core.ts';
import { defineModule } from './define.ts';

export function collectionModule(): KclModule {
  return defineModule('collection', {
    union_all: (a) =>
      iterate(a.required(0, 'data'), 'union_all').reduce((acc, item) => {
        if (!isConfig(item)) throw typeError(`union_all() expects a list of dicts, got ${typeName(item)}`);
        return union(acc, deepCopy(item));
      }, new KclDict()),
  });
}
