import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, KdeliverError } from '../../src/errors.ts';
import { REPO_ROOT } from '../helpers/cli.ts';

describe('KdeliverError', () => {
  it('maps its kind to the exit code', () => {
    const error = new KdeliverError('verification', 'SIGNATURE_INVALID', 'bad signature', {
      hint: 'get the right key',
    });
    expect(error.exitCode).toBe(4);
    expect(error.toJSON()).toEqual({
      kind: 'verification',
      code: 'SIGNATURE_INVALID',
      message: 'bad signature',
      hint: 'get the right key',
    });
  });

  it('documents every exit code in docs/exit-codes.md', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs', 'exit-codes.md'), 'utf8');
    for (const [kind, code] of Object.entries(EXIT_CODES)) {
      expect(doc, kind).toMatch(new RegExp(`\\|\\s*${code}\\s*\\|\\s*\`${kind}\``));
    }
  });
});
