/** The system modules a KCL program can `import`, by name. */
import type { KclModule } from '../values.ts';
import type { ModuleContext } from './context.ts';
import { collectionModule } from './collection.ts';
import { datetimeModule } from './datetime.ts';
import { base32Module, base64Module, cryptoModule } from './encoding.ts';
import { fileModule } from './file.ts';
import { manifestsModule } from './manifests.ts';
import { mathModule } from './math.ts';
import { netModule } from './net.ts';
import { regexModule } from './regex.ts';
import { runtimeModule } from './runtime.ts';
import { jsonModule, yamlModule } from './serialization.ts';
import { templateModule } from './template.ts';
import { unitsModule } from './units.ts';

export type { ModuleContext } from './context.ts';

const FACTORIES: ReadonlyMap<string, (ctx: ModuleContext) => KclModule> = new Map([
  ['base32', base32Module],
  ['base64', base64Module],
  ['collection', collectionModule],
  ['crypto', cryptoModule],
  ['datetime', datetimeModule],
  ['file', fileModule],
  ['json', jsonModule],
  ['manifests', manifestsModule],
  ['math', mathModule],
  ['net', netModule],
  ['regex', regexModule],
  ['runtime', runtimeModule],
  ['template', templateModule],
  ['units', unitsModule],
  ['yaml', yamlModule],
]);

export function isSystemModule(name: string): boolean {
  return FACTORIES.has(name);
}

/** A fresh module object for one run, or undefined when `name` is not a system module. */
export function createSystemModule(name: string, ctx: ModuleContext): KclModule | undefined {
  return FACTORIES.get(name)?.(ctx);
}
