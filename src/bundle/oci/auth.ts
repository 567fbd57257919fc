/**
 * Registry authentication: learns the scheme from the first 401 challenge, then sends
 * credentials up front. Basic sends the user and password; Bearer trades them (or
 * nothing, for anonymous pulls) at the challenge's realm for a token per scope, cached
 * until it expires. A 401 on a request that carried a token drops the token and logs in
 * again once.
 */
import { KdeliverError, messageOf } from '../../errors.ts';
import { parseChallenges } from './challenge.ts';
import { lookupDockerCredentials, type CredentialLookup, type Credentials } from './docker-config.ts';
import { header, readBody, type HttpRequest, type HttpResponse } from './transport.ts';

export interface AuthSettings {
  /** host[:port] as written in references, for config.json lookups and messages. */
  registry: string;
  /** Explicit credentials win over config.json. */
  credentials?: Credentials;
  /** A Docker config.json to read credentials from; none when undefined. */
  dockerConfigPath?: string;
  now?: () => number;
}

interface Token {
  value: string;
  expiresAt: number;
}

type Scheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service: string | undefined };

/** Tokens are renewed this long before they expire, so a request does not race the expiry. */
const EXPIRY_MARGIN_MS = 10_000;
/** The distribution token specification's default lifetime. */
const DEFAULT_TOKEN_SECONDS = 60;

export class RegistryAuth {
  readonly #settings: AuthSettings;
  readonly #send: (request: HttpRequest) => Promise<HttpResponse>;
  readonly #tokens = new Map<string, Token>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #now: () => number;
  #scheme: Scheme | undefined;
  #lookup: Promise<CredentialLookup> | undefined;

  /** `send` performs the token request (with the caller's retries for transient failures). */
  constructor(settings: AuthSettings, send: (request: HttpRequest) => Promise<HttpResponse>) {
    this.#settings = settings;
    this.#send = send;
    this.#now = settings.now ?? Date.now;
  }

  /** The Authorization header for a request needing `scopes`, when the scheme is known. */
  async authorization(scopes: string[]): Promise<string | undefined> {
    const scheme = this.#scheme;
    if (!scheme) return undefined;
    if (scheme.kind === 'basic') return basicHeader(await this.#requireCredentials());
    return `Bearer ${await this.#token(scheme, scopes, [])}`;
  }

  /**
   * Called after a 401: learns the challenge and returns the header to retry with once.
   * A request that already carried credentials gets a fresh token; a Basic retry with
   * the same user and password could not succeed, so that throws.
   */
  async reauthorize(response: HttpResponse, scopes: string[], sent: string | undefined): Promise<string> {
    const challenges = parseChallenges(header(response.headers, 'www-authenticate') ?? '');
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    const basic = challenges.find((challenge) => challenge.scheme === 'basic');
    if (bearer?.params.realm) {
      this.#scheme = { kind: 'bearer', realm: bearer.params.realm, service: bearer.params.service };
      // The registry may name a scope we did not think of; ask for it too.
      const extra = bearer.params.scope && !scopes.includes(bearer.params.scope) ? [bearer.params.scope] : [];
      return `Bearer ${await this.#token(this.#scheme, scopes, extra, sent)}`;
    }
    if (basic || challenges.length === 0) {
      this.#scheme = { kind: 'basic' };
      if (sent?.startsWith('Basic ')) throw await this.unauthorized(response);
      return basicHeader(await this.#requireCredentials());
    }
    throw new KdeliverError(
      'operation',
      'REGISTRY_AUTH_UNSUPPORTED',
      `Registry ${this.#settings.registry} asks for ${challenges.map((c) => c.scheme).join(', ')} authentication, which kdeliver does not support.`,
      { hint: 'kdeliver supports Basic and Bearer token authentication.' },
    );
  }

  /** The error for a request refused even after logging in. */
  async unauthorized(response: HttpResponse): Promise<KdeliverError> {
    const lookup = await this.#credentials();
    const where = `${this.#settings.registry}${response.url.pathname}`;
    if (lookup.kind === 'helper') return helperError(this.#settings.registry, lookup);
    if (lookup.kind === 'none')
      return new KdeliverError(
        'operation',
        'REGISTRY_AUTH_REQUIRED',
        `Registry ${this.#settings.registry} requires credentials for ${where}.`,
        {
          hint: `Give kdeliver a user and password for ${this.#settings.registry}, or run \`docker login ${this.#settings.registry}\` so ~/.docker/config.json (or $DOCKER_CONFIG/config.json) has an "auths" entry.`,
        },
      );
    return new KdeliverError(
      'operation',
      'REGISTRY_UNAUTHORIZED',
      `Registry ${this.#settings.registry} refused the credentials of "${lookup.credentials.username}" (from ${lookup.from}) for ${where}.`,
      { hint: 'Check the user name and password, and that the user may access this repository.' },
    );
  }

  #credentials(): Promise<CredentialLookup> {
    const { credentials, dockerConfigPath, registry } = this.#settings;
    this.#lookup ??= credentials
      ? Promise.resolve({ kind: 'found', credentials, from: 'the given credentials' })
      : dockerConfigPath
        ? lookupDockerCredentials(registry, dockerConfigPath)
        : Promise.resolve({ kind: 'none' });
    return this.#lookup;
  }

  async #requireCredentials(): Promise<Credentials> {
    const lookup = await this.#credentials();
    if (lookup.kind === 'found') return lookup.credentials;
    if (lookup.kind === 'helper') throw helperError(this.#settings.registry, lookup);
    throw new KdeliverError(
      'operation',
      'REGISTRY_AUTH_REQUIRED',
      `Registry ${this.#settings.registry} requires credentials.`,
      {
        hint: `Give kdeliver a user and password for ${this.#settings.registry}, or run \`docker login ${this.#settings.registry}\` so ~/.docker/config.json (or $DOCKER_CONFIG/config.json) has an "auths" entry.`,
      },
    );
  }

  /**
   * A cached token for `scopes` unless it is the one the registry just refused (`stale`);
   * concurrent requests for the same scopes share one token request.
   */
  #token(
    scheme: Scheme & { kind: 'bearer' },
    scopes: string[],
    extra: string[],
    stale?: string,
  ): Promise<string> {
    const key = scopes.join(' ');
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > this.#now() && `Bearer ${cached.value}` !== stale)
      return Promise.resolve(cached.value);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#fetchToken(scheme, scopes, extra).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Fetches and caches (under `scopes`) a token for `scopes` plus `extra`. */
  async #fetchToken(
    scheme: Scheme & { kind: 'bearer' },
    scopes: string[],
    extra: string[] = [],
  ): Promise<string> {
    let url: URL;
    try {
      url = new URL(scheme.realm);
    } catch (error) {
      throw new KdeliverError(
        'operation',
        'REGISTRY_AUTH_REALM_INVALID',
        `Registry ${this.#settings.registry} names an invalid token realm "${scheme.realm}".`,
        { cause: error },
      );
    }
    if (scheme.service) url.searchParams.set('service', scheme.service);
    for (const scope of [...scopes, ...extra]) url.searchParams.append('scope', scope);
    // Anonymous tokens are fine for public repositories; credentials a helper holds are not reachable.
    const lookup = await this.#credentials();
    const headers: Record<string, string> =
      lookup.kind === 'found' ? { Authorization: basicHeader(lookup.credentials) } : {};
    const response = await this.#send({ method: 'GET', url, headers });
    if (response.status === 401 || response.status === 403) {
      await readBody(response, 64 * 1024).catch(() => undefined);
      throw await this.unauthorized(response);
    }
    const body = await readBody(response, 1024 * 1024);
    if (response.status !== 200)
      throw new KdeliverError(
        'operation',
        'REGISTRY_TOKEN_FAILED',
        `The token service ${url.origin}${url.pathname} of ${this.#settings.registry} answered HTTP ${response.status}.`,
      );
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch (error) {
      throw new KdeliverError(
        'operation',
        'REGISTRY_TOKEN_FAILED',
        `The token service of ${this.#settings.registry} sent invalid JSON: ${messageOf(error)}.`,
        { cause: error },
      );
    }
    const value = parsed.token ?? parsed.access_token;
    if (!value)
      throw new KdeliverError(
        'operation',
        'REGISTRY_TOKEN_FAILED',
        `The token service of ${this.#settings.registry} sent no token.`,
      );
    const lifetime = (parsed.expires_in ?? DEFAULT_TOKEN_SECONDS) * 1000;
    this.#tokens.set(scopes.join(' '), {
      value,
      expiresAt: this.#now() + Math.max(0, lifetime - EXPIRY_MARGIN_MS),
    });
    return value;
  }
}

function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

function helperError(registry: string, lookup: CredentialLookup & { kind: 'helper' }): KdeliverError {
  return new KdeliverError(
    'environment',
    'REGISTRY_CREDENTIAL_HELPER_UNSUPPORTED',
    `Credentials for ${registry} are kept by the credential helper "${lookup.helper}" (configured in ${lookup.from}); kdeliver does not run credential helpers.`,
    {
      hint: `Give kdeliver the user and password for ${registry} directly, or add an "auths" entry with "auth" (base64 of user:password) for ${registry} to a config.json kdeliver reads.`,
    },
  );
}
