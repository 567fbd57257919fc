import { Flags } from '@oclif/core';
import type { ProjectStatus } from '../install/status.ts';
import { KdeliverCommand } from './base.ts';
import { projectArg, siteFlags, siteOptions } from './day2-flags.ts';

/** The exit code of a status that found a resource missing or unhealthy (docs/exit-codes.md). */
const UNHEALTHY_EXIT = 9;

export default class Status extends KdeliverCommand {
  static override summary = 'Show the health of every resource of an installed project.';
  static override description = [
    'Reads each resource the installed releases recorded from the cluster and judges its health with the rules',
    'the install waited on (Deployments available, PVCs bound, Jobs complete, Ready conditions...). With',
    '--watch, refreshes until Ctrl-C (on a terminal the table is redrawn; otherwise a new one is printed when',
    'something changes; with --json one JSON object per line). Reads only. Exits 9 when a resource is missing',
    'or not healthy (without --watch).',
  ].join('\n');
  static override examples = ['<%= config.bin %> status shop', '<%= config.bin %> status --watch'];
  static override args = { project: projectArg };
  static override flags = {
    ...siteFlags,
    watch: Flags.boolean({ char: 'w', description: 'Keep refreshing until Ctrl-C.', default: false }),
    interval: Flags.integer({ description: 'Seconds between refreshes with --watch.', default: 2, min: 1 }),
  };

  async run() {
    const { args, flags } = await this.parse(Status);
    const { projectStatus } = await import('../install/status.ts');
    const site = siteOptions(flags);
    const json = this.jsonEnabled();
    if (!flags.watch) {
      const status = await projectStatus(site, args.project);
      if (status.healthy) {
        if (!json) process.stdout.write(await render(status));
        return status;
      }
      // Scripts and CI can wait on the exit code, as on `kubectl rollout status`.
      if (json) this.logJson(status);
      else process.stdout.write(await render(status));
      this.exit(UNHEALTHY_EXIT);
    }
    const stopped = new AbortController();
    // `on`, not `once`: signal-exit (loaded by the state's file lock) re-raises a signal nobody else handles.
    process.on('SIGINT', () => stopped.abort());
    let shown = '';
    let status: ProjectStatus | undefined;
    while (!stopped.signal.aborted) {
      status = await projectStatus(site, args.project);
      const text = json ? `${JSON.stringify(status)}\n` : await render(status);
      if (text !== shown) {
        // A terminal gets the table redrawn in place; logs get each change once.
        process.stdout.write(process.stdout.isTTY && !json ? `\x1b[H\x1b[2J${text}` : text);
        shown = text;
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, flags.interval * 1000);
        stopped.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    // Each state was printed as it came; --json printed lines, so nothing more goes out.
    this.exit(0);
    return status;
  }
}

async function render(status: ProjectStatus): Promise<string> {
  const { renderTable } = await import('../ui/table.ts');
  const stacks = status.stacks
    .map((s) => `Stack ${s.stack}: revision ${s.revision} ${s.phase}${s.package ? ` (${s.package})` : ''}`)
    .join('\n');
  const table = renderTable(
    ['STACK', 'KIND', 'NAMESPACE', 'NAME', 'HEALTH', 'MESSAGE'],
    status.resources.map((r) => [r.stack, r.kind, r.namespace ?? '-', r.name, r.health, r.message]),
  );
  const unhealthy = status.resources.filter((r) => r.health !== 'healthy').length;
  const verdict =
    unhealthy === 0
      ? 'All resources healthy.'
      : `${unhealthy} of ${status.resources.length} resources not healthy.`;
  return `${status.project}\n${stacks}\n\n${table}\n${verdict}\n`;
}
