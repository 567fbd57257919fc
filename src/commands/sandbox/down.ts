import { sandboxDown } from '../../sandbox/sandbox.ts';
import { KdeliverCommand } from '../base.ts';
import { sandboxDirFlag } from '../flags.ts';

export default class SandboxDown extends KdeliverCommand {
  static override summary = "Stop the sandbox's processes and remove its data (logs are kept).";
  static override flags = { dir: sandboxDirFlag };

  async run() {
    const { flags } = await this.parse(SandboxDown);
    const result = await sandboxDown(flags.dir);
    if (!this.jsonEnabled()) {
      this.logToStderr(
        result.stopped.length ? `Stopped ${result.stopped.join(', ')}.` : 'Nothing was running.',
      );
    }
    return result;
  }
}
