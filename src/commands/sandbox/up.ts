import { sandboxEnv, sandboxUp } from '../../sandbox/sandbox.ts';
import { KdeliverCommand } from '../base.ts';
import { sandboxDirFlag } from '../flags.ts';

export default class SandboxUp extends KdeliverCommand {
  static override summary =
    'Start a real local site: Kubernetes control plane, a simulated node and two registries.';
  static override description = [
    'Runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kwok node on loopback, plus a',
    'TLS registry with basic auth (the site registry) and a TLS registry without auth (a source registry).',
    'The control plane is built from Go modules on first use and cached; KUBEBUILDER_ASSETS, when set,',
    'points at existing binaries instead. Running it again while the sandbox is up does nothing.',
  ].join('\n');
  static override examples = ['<%= config.bin %> sandbox up', 'eval "$(<%= config.bin %> sandbox env)"'];
  static override flags = { dir: sandboxDirFlag };

  async run() {
    const { flags } = await this.parse(SandboxUp);
    const result = await sandboxUp(flags.dir, { json: this.jsonEnabled() });
    const { state } = result;
    if (!this.jsonEnabled()) {
      this.logToStderr(
        result.alreadyRunning
          ? `The sandbox in ${state.dir} is already running.`
          : `Sandbox up in ${result.startSeconds.toFixed(1)}s: Kubernetes ${state.versions.kubernetes}, etcd ${state.versions.etcd}, kwok ${state.versions.kwok}, docker-registry ${state.versions.registry}.`,
      );
      this.logToStderr(
        `API server ${state.apiServer}; registry ${state.registry.host}; source registry ${state.sourceRegistry.host}.`,
      );
      this.logToStderr(`Use it: eval "$(kdeliver sandbox env --dir ${state.dir})"`);
    }
    return { ...result, env: sandboxEnv(state) };
  }
}
