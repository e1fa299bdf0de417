/**
 * Redis Sentinel for RedisCache: the `redis+sentinel://` URL form and the ioredis options that
 * make a client find the master through the sentinels and follow it across a failover.
 *
 *   redis+sentinel://[user:password@]host1:port1[,host2:port2...]/mastername[/db]
 *
 * The credentials are the master's (and its replicas'). Sentinels that require a password of
 * their own get it through `redisOptions: { sentinelPassword, sentinelUsername }`. A port may
 * be left out (26379). Characters such as `@`, `/` or `:` inside the credentials or the master
 * name are percent-encoded, as in any URL.
 */
import type { RedisOptions } from 'ioredis'
import { CacheOptionError, describe } from '../errors'
import { redactUrl } from './redact'

export const DEFAULT_SENTINEL_PORT = 26379

const SCHEME = /^redis\+sentinel:\/\//i
const FORM = 'redis+sentinel://[user:password@]host:port[,host:port...]/mastername[/db]'

export interface SentinelTarget {
  sentinels: { host: string; port: number }[]
  /** The master's name as the sentinels know it. */
  name: string
  db?: number
  username?: string
  password?: string
}

export function isSentinelUrl(url: unknown): url is string {
  return typeof url === 'string' && SCHEME.test(url)
}

/** Parses a `redis+sentinel://` URL; a malformed one throws CacheOptionError naming what is wrong. */
export function parseSentinelUrl(url: string): SentinelTarget {
  const parsed = parse(url)
  if (typeof parsed === 'string') {
    throw new CacheOptionError(`redisUrl ${parsed} (expected ${FORM}), got ${JSON.stringify(redactUrl(url))}`)
  }
  return parsed
}

/** What is wrong with a `redis+sentinel://` URL, or undefined when it is well formed. */
export function sentinelUrlProblem(url: string): string | undefined {
  const parsed = parse(url)
  return typeof parsed === 'string' ? parsed : undefined
}

function parse(url: string): SentinelTarget | string {
  if (!SCHEME.test(url)) return 'must start with redis+sentinel://'
  let rest = url.replace(SCHEME, '')
  if (/[?#]/.test(rest)) return 'has a query or fragment, which a Sentinel URL does not take (sentinel options go in redisOptions)'
  const at = rest.lastIndexOf('@')
  let username: string | undefined
  let password: string | undefined
  if (at !== -1) {
    const userinfo = rest.slice(0, at)
    rest = rest.slice(at + 1)
    const colon = userinfo.indexOf(':')
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon)
    const pass = colon === -1 ? '' : userinfo.slice(colon + 1)
    try {
      username = user === '' ? undefined : decodeURIComponent(user)
      password = pass === '' ? undefined : decodeURIComponent(pass)
    } catch {
      return 'has a malformed percent-encoding in its credentials'
    }
  }
  const slash = rest.indexOf('/')
  if (slash === -1) return 'names no master (the path after the sentinel addresses)'
  const sentinels: SentinelTarget['sentinels'] = []
  for (const address of rest.slice(0, slash).split(',')) {
    const sentinel = parseAddress(address)
    if (typeof sentinel === 'string') return sentinel
    sentinels.push(sentinel)
  }
  const path = rest.slice(slash + 1).replace(/\/$/, '').split('/')
  if (path.length > 2) return 'has a path longer than /mastername/db'
  let name: string
  try {
    name = decodeURIComponent(path[0])
  } catch {
    return 'has a malformed percent-encoding in its master name'
  }
  if (name === '') return 'names no master (the path after the sentinel addresses)'
  let db: number | undefined
  if (path.length === 2) {
    if (!/^\d{1,5}$/.test(path[1])) return `has a database that is not a number: ${JSON.stringify(path[1])}`
    db = Number(path[1])
  }
  return { sentinels, name, db, username, password }
}

function parseAddress(address: string): { host: string; port: number } | string {
  // host, host:port, [ipv6] or [ipv6]:port
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(address)
  if (match === null) return `has a sentinel address that is not host:port: ${JSON.stringify(address)}`
  const port = match[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[2])
  if (port < 1 || port > 65535) return `has a sentinel port out of range: ${JSON.stringify(address)}`
  return { host: match[1].replace(/^\[|\]$/g, ''), port }
}

/**
 * The ioredis options of a client that reaches its master through sentinels, given either as a
 * parsed URL or as ioredis Sentinel options in `redisOptions` (those win):
 * - `failoverDetector`: listen to the sentinels' +switch-master and reconnect at once, so a
 *   master that hangs (no closed connection) is left as soon as a replica is promoted;
 * - `reconnectOnError` on READONLY: a demoted master answering writes makes the client ask the
 *   sentinels again (nothing is re-sent: RedisCache never replays a write late);
 * - `sentinelCommandTimeout`: asking a sentinel is bounded like connecting.
 */
export function sentinelClientOptions(target: SentinelTarget | undefined, redisOptions: RedisOptions, commandTimeoutMs: number): RedisOptions {
  if (target === undefined && redisOptions.sentinels === undefined) return redisOptions
  const sentinels = target?.sentinels ?? redisOptions.sentinels
  if (!Array.isArray(sentinels) || sentinels.length === 0) {
    throw new CacheOptionError(`redisOptions.sentinels must be a non-empty array of { host, port }, got ${describe(sentinels)}`)
  }
  const name = redisOptions.name ?? target?.name
  if (typeof name !== 'string' || name === '') {
    throw new CacheOptionError(`redisOptions.sentinels needs redisOptions.name (the master's name), got ${describe(name)}`)
  }
  return {
    failoverDetector: true,
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 1 : false),
    sentinelCommandTimeout: Math.max(1000, commandTimeoutMs * 2),
    ...(target === undefined
      ? {}
      : {
          sentinels: target.sentinels,
          name: target.name,
          ...(target.db === undefined ? {} : { db: target.db }),
          ...(target.username === undefined ? {} : { username: target.username }),
          ...(target.password === undefined ? {} : { password: target.password }),
        }),
    ...redisOptions,
  }
}
