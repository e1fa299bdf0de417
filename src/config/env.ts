/**
 * The environment variables createCache() reads (docs/config-and-decorators.md), parsed and
 * checked in one place. Every variable is validated whether or not caching is enabled, so a
 * typo fails at startup rather than on the day caching is switched on.
 */
import type { PolicyName } from '../memory/policies/policy'
import { durationStringMs } from '../duration'
import { CacheConfigError, describe } from '../errors'
import { ENGINE_ENV_VAR, PREBUILDS_ENV_VAR, type EngineChoice } from '../native'
import { redactUrl } from '../redis/redact'
import { isSentinelUrl, sentinelUrlProblem } from '../redis/sentinel'
import { closestName, MAX_MAXSIZE } from '../validate'

export type CacheBackendName = 'memory' | 'redis'

/** The parsed environment: what createCache() builds from. */
export interface CacheConfig {
  enabled: boolean
  backend: CacheBackendName
  maxsize: number
  /** Seconds; 0 = no expiry. */
  ttlSeconds: number
  redisUrl: string
  keyPrefix: string
  /** Memory engine choice (ASTRA_CACHE_ENGINE, or its alias CACHE_ENGINE). */
  engine: EngineChoice
  /** Memory eviction policy (CACHE_POLICY; docs/policies.md). */
  policy: PolicyName
  /** Bound on every Redis command (CACHE_REDIS_COMMAND_TIMEOUT_MS); undefined = RedisCache's default. */
  redisCommandTimeoutMs?: number
}

export type Env = Readonly<Record<string, string | undefined>>

/** The documented variables and their defaults. */
export const ENV_DEFAULTS = {
  CACHE_ENABLED: 'false',
  CACHE_BACKEND: 'memory',
  CACHE_MAXSIZE: '1024',
  CACHE_TTL_SECONDS: '60',
  CACHE_REDIS_URL: 'redis://localhost:6379',
  CACHE_KEY_PREFIX: 'astra:cache:',
  [ENGINE_ENV_VAR]: 'auto',
  CACHE_POLICY: 'lru',
} as const

/** Accepted for ASTRA_CACHE_ENGINE by createCache() (it overrides the engine of every memory cache, whoever builds it). */
export const ENGINE_ENV_ALIAS = 'CACHE_ENGINE'

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on'])
const FALSE_WORDS = new Set(['false', '0', 'no', 'off'])
const MAX_TIMEOUT_MS = 2 ** 31 - 1 // setTimeout's limit
const ENGINES: readonly EngineChoice[] = ['auto', 'native', 'js']

/**
 * Reads the configuration from `env` (process.env by default). A set-but-empty variable counts
 * as unset, except CACHE_KEY_PREFIX where the empty string means "no prefix".
 */
export function readCacheConfig(env: Env = process.env): CacheConfig {
  if (env === null || typeof env !== 'object') throw new CacheConfigError(`env must be an object of strings, got ${describe(env)}`)
  checkNearMisses(env)
  const timeout = valueOf(env, 'CACHE_REDIS_COMMAND_TIMEOUT_MS')
  return {
    enabled: parseBoolean('CACHE_ENABLED', valueOf(env, 'CACHE_ENABLED') ?? ENV_DEFAULTS.CACHE_ENABLED),
    backend: parseChoice('CACHE_BACKEND', valueOf(env, 'CACHE_BACKEND') ?? ENV_DEFAULTS.CACHE_BACKEND, ['memory', 'redis']),
    maxsize: parseMaxsize(valueOf(env, 'CACHE_MAXSIZE') ?? ENV_DEFAULTS.CACHE_MAXSIZE),
    ttlSeconds: parseTtl(valueOf(env, 'CACHE_TTL_SECONDS') ?? ENV_DEFAULTS.CACHE_TTL_SECONDS),
    redisUrl: parseRedisUrl(valueOf(env, 'CACHE_REDIS_URL') ?? ENV_DEFAULTS.CACHE_REDIS_URL),
    keyPrefix: rawValueOf(env, 'CACHE_KEY_PREFIX') ?? ENV_DEFAULTS.CACHE_KEY_PREFIX,
    engine: parseEngine(env),
    policy: parseChoice('CACHE_POLICY', valueOf(env, 'CACHE_POLICY') ?? ENV_DEFAULTS.CACHE_POLICY, ['lru', 's3fifo', 'tinylfu']),
    redisCommandTimeoutMs: timeout === undefined ? undefined : parseTimeout(timeout),
  }
}

/** Every variable astra-cache reads; a name one or two edits away from one of them is a typo. */
const KNOWN_VARIABLES: readonly string[] = [...Object.keys(ENV_DEFAULTS), 'CACHE_REDIS_COMMAND_TIMEOUT_MS', ENGINE_ENV_ALIAS, PREBUILDS_ENV_VAR]

/** Variables warned about as possibly meant for one of ours (once each per process). */
const warnedVariables = new Set<string>()

/**
 * `CACHE_BACKND=redis` would otherwise leave the memory backend in place without a word, so a
 * name one or two edits from one of ours is refused. Other tools' CACHE_* variables (CACHE_DIR,
 * CACHE_PREFIX, CACHE_DRIVER) are further away and pass. A name that is ours cut before a
 * suffix (CACHE_TTL for CACHE_TTL_SECONDS) may well be another tool's, so it only warns.
 */
function checkNearMisses(env: Env): void {
  for (const name of Object.keys(env)) {
    if (KNOWN_VARIABLES.includes(name) || !/^(ASTRA_)?CACHE_/i.test(name)) continue
    const misspelt = closestName(name, KNOWN_VARIABLES)
    if (misspelt !== undefined) {
      throw new CacheConfigError(`unknown environment variable ${name}: did you mean ${misspelt}? (astra-cache reads ${KNOWN_VARIABLES.join(', ')})`)
    }
    const shortened = KNOWN_VARIABLES.find((known) => known.startsWith(`${name.toUpperCase()}_`))
    if (shortened !== undefined && !warnedVariables.has(name)) {
      warnedVariables.add(name)
      process.emitWarning(`${name} is not read by astra-cache; if it was meant for it, the variable is ${shortened}`, {
        type: 'CacheConfigWarning',
        code: 'ASTRA_CACHE_UNREAD_VARIABLE',
      })
    }
  }
}

function rawValueOf(env: Env, variable: string): string | undefined {
  const value = env[variable]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new CacheConfigError(`${variable} must be a string, got ${describe(value)}`)
  return value
}

function valueOf(env: Env, variable: string): string | undefined {
  const value = rawValueOf(env, variable)?.trim()
  return value === '' ? undefined : value
}

function invalid(variable: string, shown: string, allowed: string): CacheConfigError {
  return new CacheConfigError(`${variable}=${JSON.stringify(shown)} is not valid: expected ${allowed}`)
}

function parseBoolean(variable: string, value: string): boolean {
  const word = value.toLowerCase()
  if (TRUE_WORDS.has(word)) return true
  if (FALSE_WORDS.has(word)) return false
  throw invalid(variable, value, 'one of true/false/1/0/yes/no/on/off (any case)')
}

function parseChoice<T extends string>(variable: string, value: string, choices: readonly T[]): T {
  const word = value.toLowerCase()
  for (const choice of choices) if (choice === word) return choice
  throw invalid(variable, value, `one of ${choices.join(', ')}`)
}

/** ASTRA_CACHE_ENGINE, or its alias; both set to different engines is a mistake, not a choice. */
function parseEngine(env: Env): EngineChoice {
  const documented = valueOf(env, ENGINE_ENV_VAR)
  const alias = valueOf(env, ENGINE_ENV_ALIAS)
  const engine = documented === undefined ? undefined : parseChoice(ENGINE_ENV_VAR, documented, ENGINES)
  const aliased = alias === undefined ? undefined : parseChoice(ENGINE_ENV_ALIAS, alias, ENGINES)
  if (engine !== undefined && aliased !== undefined && engine !== aliased) {
    throw new CacheConfigError(`${ENGINE_ENV_VAR}=${JSON.stringify(documented)} and ${ENGINE_ENV_ALIAS}=${JSON.stringify(alias)} disagree: ${ENGINE_ENV_ALIAS} is an alias of ${ENGINE_ENV_VAR}; set one of them`)
  }
  return engine ?? aliased ?? ENV_DEFAULTS[ENGINE_ENV_VAR]
}

function parseMaxsize(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_MAXSIZE) {
    throw invalid('CACHE_MAXSIZE', value, `an integer from 1 to ${MAX_MAXSIZE}`)
  }
  return n
}

function parseTtl(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : durationOf(value) / 1000
  if (!Number.isFinite(n) || n < 0) throw invalid('CACHE_TTL_SECONDS', value, "a non-negative number of seconds (fractions allowed; 0 = no expiry) or a duration such as '5m'")
  return n
}

function parseTimeout(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : durationOf(value)
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_TIMEOUT_MS) {
    throw invalid('CACHE_REDIS_COMMAND_TIMEOUT_MS', value, `an integer number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, or a duration such as '2s'`)
  }
  return n
}

/** A duration string's milliseconds, NaN when it is not one (the caller's message names the variable). */
function durationOf(value: string): number {
  try {
    return durationStringMs(value, 'duration')
  } catch {
    return NaN
  }
}

function parseRedisUrl(value: string): string {
  const shown = redactUrl(value)
  if (isSentinelUrl(value)) {
    const problem = sentinelUrlProblem(value)
    if (problem !== undefined) throw invalid('CACHE_REDIS_URL', shown, `a Sentinel URL redis+sentinel://[user:password@]host:port[,host:port...]/mastername[/db]; this one ${problem}`)
    return value
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid('CACHE_REDIS_URL', shown, 'a URL such as redis://[user:password@]host:6379[/db] or rediss://...')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw invalid('CACHE_REDIS_URL', shown, 'a redis://, rediss:// or redis+sentinel:// URL')
  }
  if (url.hostname === '') throw invalid('CACHE_REDIS_URL', shown, 'a URL with a host, such as redis://localhost:6379')
  return value
}
