import { homedir } from 'node:os';
import { join } from 'node:path';

/** The release state file: $KDELIVER_STATE, else $XDG_STATE_HOME/kdeliver/state.db. */
export function defaultStatePath(): string {
  return (
    process.env.KDELIVER_STATE ??
    join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'kdeliver', 'state.db')
  );
}
