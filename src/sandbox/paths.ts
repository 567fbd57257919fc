import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where built tools are cached between runs: $KDELIVER_CACHE_DIR, else $XDG_CACHE_HOME/kdeliver. */
export function cacheRoot(): string {
  return (
    process.env.KDELIVER_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kdeliver')
  );
}

/** The default sandbox directory: $KDELIVER_SANDBOX_DIR, else $XDG_STATE_HOME/kdeliver/sandbox. */
export function defaultSandboxDir(): string {
  return (
    process.env.KDELIVER_SANDBOX_DIR ??
    join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'kdeliver', 'sandbox')
  );
}
