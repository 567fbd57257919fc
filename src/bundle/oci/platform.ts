/** Platforms as written on the command line (`os/arch[/variant]`) and matched against index entries. */
import { KdeliverError } from '../../errors.ts';
import type { Platform } from './media-types.ts';

export function parsePlatform(text: string): Platform {
  const parts = text.trim().split('/');
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant))
    throw new KdeliverError(
      'usage',
      'PLATFORM_INVALID',
      `Platform "${text}" is not of the form os/arch[/variant].`,
      {
        hint: 'For example linux/amd64 or linux/arm64/v8.',
      },
    );
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** A comma-separated list such as `linux/amd64,linux/arm64`. */
export function parsePlatforms(text: string): Platform[] {
  return text
    .split(',')
    .filter((part) => part.trim() !== '')
    .map(parsePlatform);
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** arm64 images usually say variant v8 and sometimes say nothing; both mean the same. */
function normalVariant(platform: Platform): string | undefined {
  if (platform.architecture === 'arm64' && platform.variant === 'v8') return undefined;
  return platform.variant;
}

/** A wanted platform without a variant matches any variant of its os/arch. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  return wanted.variant === undefined || normalVariant(wanted) === normalVariant(candidate);
}
