import { describe, expect, it } from 'vitest';
import { KclDiagnostic } from '../../../src/kcl/diagnostics.ts';
import { createSystemModule, type ModuleContext } from '../../../src/kcl/modules/index.ts';
import { KclRuntimeError, UNDEFINED, makeFunction, type KclValue } from '../../../src/kcl/values.ts';

const ctx: ModuleContext = { workdir: '/', modRoot: '/', currentFile: '/main.k', setStreamOutput: () => {} };

function runtimeCatch(arg: KclValue): KclValue {
  const fn = createSystemModule('runtime', ctx)?.members.get('catch');
  if (!fn || typeof fn !== 'object' || fn.kind !== 'function') throw new Error('no runtime.catch');
  return fn.call([arg], new Map());
}

const raising = (error: Error) =>
  makeFunction('lambda', () => {
    throw error;
  });

describe('runtime module', () => {
  it('returns Undefined when the function succeeds', () => {
    expect(runtimeCatch(makeFunction('lambda', () => 1n))).toBe(UNDEFINED);
  });

  it('returns the message of a runtime error', () => {
    expect(runtimeCatch(raising(new KclRuntimeError('list index out of range: 0', 'IndexError')))).toBe(
      'list index out of range: 0',
    );
  });

  it("returns a positioned diagnostic's own message, the check message for failed checks", () => {
    const failedCheck = new KclDiagnostic({
      code: 'E2D34',
      kind: 'EvaluationError',
      labels: [
        { file: 'main.k', line: 9, column: 5, message: 'Instance check failed' },
        { file: 'main.k', line: 5, column: null, message: 'age must be in [1, 120], got -1' },
      ],
    });
    expect(runtimeCatch(raising(failedCheck))).toBe('age must be in [1, 120], got -1');
  });

  it('lets interpreter bugs through and rejects non-functions', () => {
    expect(() => runtimeCatch(raising(new RangeError('boom')))).toThrow(RangeError);
    expect(() => runtimeCatch('not a function')).toThrow("argument 'func' expects function, got str");
  });
});
