/**
 * What a site's state says is installed: the stacks of a project whose newest release
 * still has resources, and which earlier release a rollback goes back to. Pure decisions
 * over releases read from the state, so they are tested without a cluster.
 */
import { KdeliverError } from '../errors.ts';
import type { Release } from '../state/releases.ts';

/** A release with how many resources it recorded (0 for an uninstall). */
export interface CountedRelease {
  release: Release;
  resources: number;
}

/** A stack counts as installed while its newest release recorded resources: uninstall records none. */
export function installedStacks(newest: readonly CountedRelease[]): Release[] {
  return newest.filter(({ resources }) => resources > 0).map(({ release }) => release);
}

/** The one project of the state when no name is given, or an error listing the choices. */
export function chooseProject(
  projects: readonly string[],
  given: string | undefined,
  statePath: string,
): string {
  if (given !== undefined) {
    if (projects.includes(given)) return given;
    throw new KdeliverError(
      'input',
      'PROJECT_NOT_INSTALLED',
      `the state ${statePath} has no release of "${given}"`,
      {
        hint:
          projects.length > 0
            ? `Installed: ${projects.join(', ')}. On another machine, \`kdeliver state pull\` fetches the site's state first.`
            : 'Install a package first, or fetch the site state with `kdeliver state pull`.',
      },
    );
  }
  if (projects.length === 1) return projects[0]!;
  throw new KdeliverError(
    'usage',
    projects.length === 0 ? 'NOTHING_INSTALLED' : 'PROJECT_AMBIGUOUS',
    projects.length === 0
      ? `the state ${statePath} records no releases`
      : `the state ${statePath} has releases of several projects: ${projects.join(', ')}`,
    {
      hint:
        projects.length === 0
          ? 'Pass --state, or fetch the site state with `kdeliver state pull`.'
          : 'Name the project (the package name) as the argument.',
    },
  );
}

/**
 * The release a rollback re-applies: the given revision, or else the newest succeeded
 * release before the current one. Only releases that ran to the end with resources can be
 * returned to (a rolled-back release did so once).
 */
export function rollbackTarget(history: readonly CountedRelease[], to: number | undefined): Release {
  const [current] = history;
  if (!current)
    throw new KdeliverError(
      'internal',
      'STACK_HISTORY_EMPTY',
      'a stack without releases has nothing to roll back',
    );
  const { project, stack } = current.release;
  const usable = ({ release, resources }: CountedRelease) =>
    resources > 0 && (release.phase === 'succeeded' || release.phase === 'rolled-back');
  if (to !== undefined) {
    const chosen = history.find(({ release }) => release.revision === to);
    if (!chosen)
      throw new KdeliverError(
        'usage',
        'REVISION_UNKNOWN',
        `stack "${stack}" of ${project} has no revision ${to}`,
        {
          hint: 'List the revisions with `kdeliver history`.',
        },
      );
    if (!usable(chosen))
      throw new KdeliverError(
        'usage',
        'REVISION_NOT_RESTORABLE',
        `revision ${to} of stack "${stack}" ${chosen.resources === 0 ? 'has no resources (an uninstall)' : `ended ${chosen.release.phase}`}`,
        { hint: 'Choose a revision that succeeded; `kdeliver history` shows each one.' },
      );
    return chosen.release;
  }
  const previous = history.slice(1).find(usable);
  if (!previous)
    throw new KdeliverError(
      'usage',
      'NO_PREVIOUS_REVISION',
      `stack "${stack}" of ${project} has no succeeded revision before revision ${current.release.revision}`,
      { hint: 'Uninstall instead, or install the package you want.' },
    );
  return previous.release;
}
