import { Args } from '@oclif/core';
import type { SiteOptions } from '../install/day2.ts';
import { clusterFlags, concurrencyFlag, stackFlags } from './flags.ts';

/** The installed project a day-2 command works on: the package name it was installed from. */
export const projectArg = Args.string({
  description: 'Installed project (the package name); may be left out when the state has only one.',
});

/** Where the site's state and cluster are. */
export const siteFlags = {
  state: stackFlags.state,
  ...clusterFlags,
  concurrency: concurrencyFlag,
};

export function siteOptions(flags: {
  state: string;
  kubeconfig?: string;
  context?: string;
  concurrency: number;
}): SiteOptions {
  return {
    statePath: flags.state,
    kubeconfig: { path: flags.kubeconfig, context: flags.context },
    concurrency: flags.concurrency,
  };
}
