import { describe, expect, it } from 'vitest';
import { redactedError, secretRedactor } from '../../../src/engine/secret-redaction.ts';
import { KdeliverError } from '../../../src/errors.ts';
import { ImmutableFieldsError } from '../../../src/runtimes/runtime.ts';
import { configMap, k8s } from './resources.ts';

const base64 = (text: string): string => Buffer.from(text).toString('base64');

describe('secretRedactor', () => {
  const redact = secretRedactor([
    k8s('v1', 'Secret', 'shop', 'creds', {
      body: { data: { token: base64('tok-"quoted"') }, stringData: { password: 'hunter22', pin: '42' } },
    }),
    configMap('shop', 'settings', { body: { data: { mode: 'not-a-secret' } } }),
  ]);

  it('replaces data and stringData values as written, encoded, decoded and JSON-escaped', () => {
    expect(
      redact(`data: ${base64('tok-"quoted"')} / decoded: tok-"quoted" / quoted: "tok-\\"quoted\\""`),
    ).toBe('data: *** / decoded: *** / quoted: "***"');
    expect(redact(`password hunter22, as base64 ${base64('hunter22')}`)).toBe('password ***, as base64 ***');
  });

  it('replaces short values only where they stand alone, and leaves other kinds alone', () => {
    expect(redact('pin "42", port 8042, mode not-a-secret')).toBe('pin "***", port 8042, mode not-a-secret');
  });

  it('copies an error with its class, code and fields, the message redacted', () => {
    const error = new ImmutableFieldsError('spec.data: "hunter22" is immutable', ['spec.data']);
    const copy = redactedError(error, redact);
    expect(copy).toBeInstanceOf(ImmutableFieldsError);
    expect(copy).toMatchObject({ code: 'FIELD_IMMUTABLE', fields: ['spec.data'] });
    expect(copy.message).toBe('spec.data: "***" is immutable');
    const plain = new KdeliverError('operation', 'X', 'nothing secret here');
    expect(redactedError(plain, redact)).toBe(plain);
  });
});
