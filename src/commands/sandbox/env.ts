import { requireRunningSandbox, sandboxEnv } from '../../sandbox/sandbox.ts';
import { KdeliverCommand } from '../base.ts';
import { sandboxDirFlag } from '../flags.ts';

/** Quotes a value for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export default class SandboxEnv extends KdeliverCommand {
  static override summary = 'Print `export` lines that point kubectl, skopeo and kdeliver at the sandbox.';
  static override examples = ['eval "$(<%= config.bin %> sandbox env)"'];
  static override flags = { dir: sandboxDirFlag };

  async run() {
    const { flags } = await this.parse(SandboxEnv);
    const env = sandboxEnv(await requireRunningSandbox(flags.dir));
    if (!this.jsonEnabled()) {
      for (const [name, value] of Object.entries(env)) this.log(`export ${name}=${shellQuote(value)}`);
    }
    return env;
  }
}
