/** The `runtime` system module. */
import { KclDiagnostic } from '../diagnostics.ts';
import { KclRuntimeError, UNDEFINED, isFunction, type KclModule, type KclValue } from '../values.ts';
import type { Args } from '../builtins/args.ts';
import { defineModule } from './define.ts';

/** The message a KCL error carries, without kind or position. */
function messageOf(error: KclRuntimeError | KclDiagnostic): string {
  if (error instanceof KclRuntimeError) return error.message;
  const [entry] = error.entries;
  // A failed check lists where the instance was built first and the check's own message last.
  return entry?.labels.at(-1)?.message ?? entry?.message ?? error.message;
}

/** Runs a function; Undefined when it succeeds, else the message of the error it raised. */
function catchError(args: Args): KclValue {
  const func = args.required(0, 'func');
  if (!isFunction(func)) throw args.wrongType('func', 'function', func);
  try {
    func.call([], new Map());
    return UNDEFINED;
  } catch (error) {
    if (error instanceof KclRuntimeError || error instanceof KclDiagnostic) return messageOf(error);
    throw error;
  }
}

export function runtimeModule(): KclModule {
  return defineModule('runtime', { catch: catchError });
}
