/** The `base64`, `base32` and `crypto` system modules. */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KclRuntimeError, type KclModule } from '../values.ts';
import type { Args } from '../builtins/args.ts';
import type { ModuleContext } from './context.ts';
import { defineModule } from './define.ts';

function encodingOf(args: Args): BufferEncoding {
  const encoding = (args.str(1, 'encoding', 'utf-8') ?? 'utf-8').toLowerCase();
  if (encoding !== 'utf-8' && encoding !== 'utf8') {
    throw new KclRuntimeError(`unsupported encoding '${encoding}'`, 'ValueError');
  }
  return 'utf8';
}

export function base64Module(): KclModule {
  return defineModule('base64', {
    encode: (a) => Buffer.from(a.str(0, 'value'), encodingOf(a)).toString('base64'),
    decode: (a) => {
      const text = a.str(0, 'value');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
        throw new KclRuntimeError(`base64 decode error: invalid input '${text}'`);
      }
      return Buffer.from(text, 'base64').toString(encodingOf(a));
    },
  });
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Encode(bytes: Buffer): string {
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5)
    out += BASE32_ALPHABET[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
}

function base32Decode(text: string): Buffer {
  const body = text.replace(/=+$/, '');
  let bits = '';
  for (const c of body) {
    const v = BASE32_ALPHABET.indexOf(c);
    if (v < 0) throw new KclRuntimeError(`base32 decode error: invalid input '${text}'`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function base32Module(): KclModule {
  return defineModule('base32', {
    encode: (a) => base32Encode(Buffer.from(a.str(0, 'value'), encodingOf(a))),
    decode: (a) => base32Decode(a.str(0, 'value')).toString(encodingOf(a)),
  });
}

const digest = (algorithm: string) => (a: Args) =>
  createHash(algorithm)
    .update(Buffer.from(a.str(0, 'value'), encodingOf(a)))
    .digest('hex');

export function cryptoModule(ctx: ModuleContext): KclModule {
  return defineModule('crypto', {
    md5: digest('md5'),
    sha1: digest('sha1'),
    sha224: digest('sha224'),
    sha256: digest('sha256'),
    sha384: digest('sha384'),
    sha512: digest('sha512'),
    uuid: () => randomUUID(),
    filesha256: (a) => {
      const path = a.str(0, 'filepath');
      try {
        return createHash('sha256')
          .update(readFileSync(resolve(ctx.workdir, path)))
          .digest('hex');
      } catch (error) {
        throw new KclRuntimeError(`failed to read '${path}': ${(error as Error).message}`);
      }
    },
    filesha512: (a) => {
      const path = a.str(0, 'filepath');
      try {
        return createHash('sha512')
          .update(readFileSync(resolve(ctx.workdir, path)))
          .digest('hex');
      } catch (error) {
        throw new KclRuntimeError(`failed to read '${path}': ${(error as Error).message}`);
      }
    },
  });
}
