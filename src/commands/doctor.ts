import { access } from 'node:fs/promises';
import { isSea } from 'node:sea';
import { componentDir } from '../sandbox/binaries.ts';
import { SANDBOX_VERSIONS } from '../sandbox/versions.ts';
import { sqliteVersion } from '../state/sqlite.ts';
import { whichCommand } from '../util/exec.ts';
import { KDELIVER_VERSION } from '../version.ts';
import { KdeliverCommand } from './base.ts';

export default class Doctor extends KdeliverCommand {
  static override summary = 'Report what kdeliver runs on and which optional tools it finds.';
  static override description =
    'Prints the kdeliver and Node versions, the embedded SQLite, whether this is the single executable, ' +
    'and where the tools the sandbox and tests use are (go, docker-registry, skopeo, openssl).';

  async run() {
    await this.parse(Doctor);
    const tools: Record<string, string | null> = {};
    for (const tool of ['go', 'docker-registry', 'skopeo', 'openssl', 'sqlite3'])
      tools[tool] = (await whichCommand(tool)) ?? null;
    const cached: Record<string, boolean> = {};
    for (const name of Object.keys(SANDBOX_VERSIONS) as (keyof typeof SANDBOX_VERSIONS)[]) {
      cached[`${name} ${SANDBOX_VERSIONS[name]}`] = await access(componentDir(name)).then(
        () => true,
        () => false,
      );
    }
    const report = {
      kdeliver: KDELIVER_VERSION,
      node: process.version,
      singleExecutable: isSea(),
      sqlite: await sqliteVersion(),
      kubeconfig: process.env.KUBECONFIG ?? null,
      kubebuilderAssets: process.env.KUBEBUILDER_ASSETS ?? null,
      tools,
      sandboxCache: cached,
    };
    if (!this.jsonEnabled()) {
      this.log(
        `kdeliver ${report.kdeliver} on Node ${report.node}${report.singleExecutable ? ' (single executable)' : ''}`,
      );
      this.log(`embedded SQLite ${report.sqlite}`);
      for (const [tool, path] of Object.entries(tools)) this.log(`${tool.padEnd(16)} ${path ?? 'not found'}`);
      for (const [component, present] of Object.entries(cached))
        this.log(`${component.padEnd(16)} ${present ? 'cached' : 'not built yet'}`);
    }
    return report;
  }
}
