import { inject } from 'vitest';
import { componentDir } from '../../src/sandbox/binaries.ts';
import { runProgram, type CliResult } from './cli.ts';

/** kubectl against the shared sandbox: the independent client the tests check the cluster with. */
export function kubectl(args: string[], kubeconfig = inject('sandboxEnv').KUBECONFIG!): Promise<CliResult> {
  const binary = process.env.KUBEBUILDER_ASSETS
    ? `${process.env.KUBEBUILDER_ASSETS}/kubectl`
    : `${componentDir('kubernetes')}/kubectl`;
  return runProgram(binary, args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions walk arbitrary objects
export async function kubectlJson(args: string[], kubeconfig?: string): Promise<any> {
  const result = await kubectl([...args, '-o', 'json'], kubeconfig);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}
