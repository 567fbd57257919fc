/** The `json` and `yaml` system modules. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { emitJson, emitYaml, type EmitOptions, type JsonOptions } from '../emitter.ts';
import { KclList, KclRuntimeError, type KclModule, type KclValue } from '../values.ts';
import type { Args } from '../builtins/args.ts';
import { iterate } from '../builtins/core.ts';
import { parseJsonValue, parseYamlStream, parseYamlValue } from '../builtins/data.ts';
import type { ModuleContext } from './context.ts';
import { defineModule } from './define.ts';

/** `sort_keys`, `ignore_private`, `ignore_none` keywords (positions after `data`). */
function emitOptions(args: Args, first: number): EmitOptions {
  return {
    sortKeys: args.bool(first, 'sort_keys', false),
    showHidden: !args.bool(first + 1, 'ignore_private', false),
    omitNone: args.bool(first + 2, 'ignore_none', false),
  };
}

function jsonOptions(args: Args, first: number): JsonOptions {
  return {
    sortKeys: args.bool(first, 'sort_keys', false),
    indent: Number(args.int(first + 1, 'indent', 0n) ?? 0n),
    showHidden: !args.bool(first + 2, 'ignore_private', false),
    omitNone: args.bool(first + 3, 'ignore_none', false),
  };
}

function writeText(ctx: ModuleContext, filename: string, text: string): null {
  try {
    writeFileSync(resolve(ctx.workdir, filename), text);
  } catch (error) {
    throw new KclRuntimeError(`failed to write '${filename}': ${(error as Error).message}`);
  }
  return null;
}

const yamlDocsOf = (args: Args): KclValue[] => iterate(args.required(0, 'data'), 'encode_all');
const encodeAll = (docs: KclValue[], options: EmitOptions) =>
  docs.map((d) => emitYaml(d, options)).join('\n---\n');

export function jsonModule(ctx: ModuleContext): KclModule {
  return defineModule('json', {
    encode: (a) => emitJson(a.required(0, 'data'), jsonOptions(a, 1)),
    decode: (a) => parseJsonValue(a.str(0, 'value')),
    validate: (a) => {
      try {
        JSON.parse(a.str(0, 'value'));
        return true;
      } catch {
        return false;
      }
    },
    dump_to_file: (a) =>
      writeText(ctx, a.str(1, 'filename'), emitJson(a.required(0, 'data'), jsonOptions(a, 2))),
  });
}

export function yamlModule(ctx: ModuleContext): KclModule {
  return defineModule('yaml', {
    encode: (a) => emitYaml(a.required(0, 'data'), emitOptions(a, 1)),
    encode_all: (a) => encodeAll(yamlDocsOf(a), emitOptions(a, 1)),
    decode: (a) => parseYamlValue(a.str(0, 'value')),
    decode_all: (a) => new KclList(parseYamlStream(a.str(0, 'value'))),
    validate: (a) => {
      const docs = parseAllDocuments(a.str(0, 'value'));
      return Array.isArray(docs) && docs.every((d) => d.errors.length === 0);
    },
    dump_to_file: (a) =>
      writeText(ctx, a.str(1, 'filename'), emitYaml(a.required(0, 'data'), emitOptions(a, 2))),
    dump_all_to_file: (a) =>
      writeText(ctx, a.str(1, 'filename'), encodeAll(yamlDocsOf(a), emitOptions(a, 2))),
  });
}
