import pkg from '../package.json' with { type: 'json' };

export const KDELIVER_VERSION: string = pkg.version;
