import { describe, expect, it } from 'vitest';
import { isKdeliverError } from '../../../src/errors.ts';
import {
  isSensitive,
  parseSetArguments,
  recordedVariables,
  resolveVariables,
  typedValue,
} from '../../../src/install/variables.ts';

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    if (isKdeliverError(error)) return error.code;
    throw error;
  }
  return undefined;
}

const domain = { name: 'domain', type: 'str', help: 'Public host name' };
const password = { name: 'db_password', type: 'str' };
const replicas = { name: 'replicas', type: 'int' };

describe('variables', () => {
  it('tells secret names from others', () => {
    expect(
      ['db_password', 'passwd', 'apiToken', 'client_secret', 'api_key', 'tls-key'].every(isSensitive),
    ).toBe(true);
    expect(['domain', 'keyspace', 'monkey', 'replicas'].some(isSensitive)).toBe(false);
  });

  it('parses --set NAME=VALUE, keeping "=" in values, and refuses a missing name', () => {
    expect(parseSetArguments(['a=1', 'b=x=y', 'a=2'])).toEqual({ a: '2', b: 'x=y' });
    expect(() => parseSetArguments(['=1'])).toThrow(/NAME=VALUE/);
    expect(() => parseSetArguments(['novalue'])).toThrow(/NAME=VALUE/);
  });

  it('types text by the declared KCL type and names the variable when it does not fit', () => {
    expect(typedValue(replicas, '3')).toBe(3);
    expect(typedValue({ name: 'on', type: 'bool' }, 'True')).toBe(true);
    expect(typedValue({ name: 'hosts', type: 'list' }, '[a, b]')).toEqual(['a', 'b']);
    expect(typedValue(domain, '007')).toBe('007');
    expect(() => typedValue(replicas, 'three')).toThrow(/replicas must be an integer/);
  });

  it('takes --set first, then the previous release (not for secrets), then asks', async () => {
    const asked: string[] = [];
    const values = await resolveVariables(
      [
        {
          stack: 'dev',
          variables: [domain, password, replicas],
          previous: { domain: 'old.example', db_password: 'sha256:x' },
        },
        { stack: 'prod', variables: [password], previous: {} },
      ],
      { replicas: '2' },
      async (_stack, variable) => {
        asked.push(variable.name);
        return 's3cret';
      },
    );
    // One answer serves every stack that declares the name.
    expect(asked).toEqual(['db_password']);
    expect(values.get('dev')).toEqual({ domain: 'old.example', db_password: 's3cret', replicas: 2 });
    expect(values.get('prod')).toEqual({ db_password: 's3cret' });
  });

  it('lists every missing value when there is nobody to ask', async () => {
    await expect(
      resolveVariables([{ stack: 'dev', variables: [domain, password], previous: {} }], {}, undefined),
    ).rejects.toThrow(/domain \(stack dev: Public host name\), db_password \(stack dev\)/);
    expect(
      await codeOf(() =>
        resolveVariables([{ stack: 'dev', variables: [domain], previous: {} }], {}, undefined),
      ),
    ).toBe('VARIABLES_MISSING');
  });

  it('records secret values as digests only', () => {
    const recorded = recordedVariables({ domain: 'shop.example', db_password: 's3cret' });
    expect(recorded.domain).toBe('shop.example');
    expect(recorded.db_password).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(recorded)).not.toContain('s3cret');
  });
});
