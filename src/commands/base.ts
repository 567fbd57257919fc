import { Command, Errors, Flags } from '@oclif/core';
import { isKdeliverError } from '../errors.ts';

/**
 * Every kdeliver command derives from this: it adds `--json` and `--debug`, and turns
 * errors into one readable message with a documented exit code (docs/exit-codes.md).
 */
export abstract class KdeliverCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    debug: Flags.boolean({
      description: 'Show internals: debug logs and stack traces.',
      default: false,
      helpGroup: 'GLOBAL',
    }),
  };

  /** True when --debug was given (also before flags are parsed) or KDELIVER_DEBUG is set. */
  protected get debugEnabled(): boolean {
    return this.argv.includes('--debug') || Boolean(process.env.KDELIVER_DEBUG);
  }

  /** Plain, quiet output: --json, or stdout is not a terminal (CI logs). */
  protected get plainOutput(): boolean {
    return this.jsonEnabled() || !process.stdout.isTTY;
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<never> {
    if (error instanceof Errors.ExitError) throw error;
    if (isKdeliverError(error)) {
      if (this.jsonEnabled()) {
        this.logJson({ error: error.toJSON() });
      } else {
        process.stderr.write(`Error [${error.code}]: ${error.message}\n`);
        if (error.hint) process.stderr.write(`Hint: ${error.hint}\n`);
        if (this.debugEnabled && error.stack) process.stderr.write(`${error.stack}\n`);
      }
      return this.exit(error.exitCode);
    }
    // oclif's own usage errors (unknown flag, missing argument) keep their rendering and exit 2.
    if (error instanceof Errors.CLIError) throw error;
    if (this.jsonEnabled()) {
      this.logJson({ error: { kind: 'internal', code: 'INTERNAL', message: error.message } });
    } else {
      process.stderr.write(`Internal error: ${error.message}\n`);
      process.stderr.write(
        this.debugEnabled ? `${error.stack ?? ''}\n` : 'Run again with --debug for details, and report it.\n',
      );
    }
    return this.exit(1);
  }
}
