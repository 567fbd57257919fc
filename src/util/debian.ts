import { KdeliverError } from '../errors.ts';
import { runCommand, whichCommand } from './exec.ts';

/**
 * The path of a program that Debian packages; when it is missing and we run as root with
 * apt-get, the package is installed, so a fresh machine needs no manual step.
 */
export async function ensureDebianTool(
  program: string,
  debianPackage: string,
  purpose: string,
): Promise<string> {
  const found = await whichCommand(program);
  if (found) return found;
  const apt = await whichCommand('apt-get');
  if (!apt || process.getuid?.() !== 0) {
    throw new KdeliverError(
      'environment',
      'TOOL_MISSING',
      `${purpose} needs ${program}, which is not installed`,
      {
        hint: `Install it: sudo apt-get install ${debianPackage}`,
      },
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand(apt, ['update'], { env });
  await runCommand(apt, ['install', '-y', '--no-install-recommends', debianPackage], { env });
  const installed = await whichCommand(program);
  if (!installed) {
    throw new KdeliverError(
      'environment',
      'TOOL_MISSING',
      `${debianPackage} was installed but ${program} is not on PATH`,
    );
  }
  return installed;
}
