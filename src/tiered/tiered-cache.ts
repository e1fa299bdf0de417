import type { RedisOptions } from 'ioredis'
import type { Cache, LoaderTimeouts } from '../contract/cache'
import { resolveTimeouts } from '../facade/get-or-set-options'
import { timersOf } from '../facade/loader-timers'
import { hasMethods, joinTier } from '../contract/capabilities'
import { CacheOptionError, describe } from '../errors'
import { AsyncStoreFacade } from '../facade/async-store-facade'
import type { Duration } from '../duration'
import { booleanOption, checkClock, checkKnownOptions, checkName, checkOptionsObject, ttlOption, ttlToMs } from '../validate'
import { RedisInvalidationBus, type InvalidationBus } from './invalidation-bus'
import { TieredStore, type TierStats } from './tiered-store'

export type { TierStats }

/**
 * A tier as TieredCacheOptions takes it: any Cache<V>, typed by what the tier accepts (set,
 * setMany) and not by what it returns. Inferred from get's `Promise<V | undefined>`, two
 * tiers built inline (`{ l1: new InMemoryLRUCache(), l2: new RedisCache() }`) made
 * TypeScript infer TieredCache<undefined>, on which no set compiles. V is inferred from l1
 * only (see NotInferred), so that a typed l1 types an inline l2 instead of being widened by it.
 * The price: a tier of a wider value type (a Cache<User | number> in a TieredCache<User>) is
 * accepted; typing get too would reject inline tiers under an explicit TieredCache<User>.
 */
export type CacheTier<V> = Pick<Cache<V>, 'set' | 'setMany'> & Omit<Cache<unknown>, 'set' | 'setMany'>

/** TypeScript 5.4's NoInfer<T>, spelled so that older compilers read the declarations too. */
type NotInferred<T> = [T][T extends unknown ? 0 : never]

export interface TieredCacheOptions<V> {
  /** The local tier, usually an InMemoryLRUCache. */
  l1: CacheTier<V>
  /** The shared tier, usually a RedisCache (its own memory fallback is then off: L1 serves during outages). */
  l2: CacheTier<NotInferred<V>>
  /** Longest life of an L1 entry, seconds or a duration string (also bounds how long an instance can serve a value it missed the invalidation of). Default 10. */
  l1Ttl?: Duration
  /** Metrics label. Default 'tiered'. */
  name?: string
  /**
   * Redis for the invalidation channel. Default: the L2's, when it tells it (RedisCache
   * `connectionOptions()`); otherwise required unless `bus` is given or false.
   */
  redisUrl?: string
  redisOptions?: RedisOptions
  /** Pub/sub channel. Default `${l2.keyPrefix}__invalidate` ('astra:cache:__invalidate'). */
  channel?: string
  /** A ready bus, or false for a single instance (no cross-instance invalidation). */
  bus?: InvalidationBus | false
  /** ms clock for stale-while-revalidate envelopes; wall clock by default (they are shared through L2). */
  clock?: () => number
  /** Close l1 and l2 in close(). Default true. */
  closeTiers?: boolean
  /** Loader timeouts of every getOrSet that gives none ({ soft, hard }, ms or duration strings); see docs/contract.md. Default: none. */
  timeouts?: LoaderTimeouts
}

const KNOWN = new Set(['l1', 'l2', 'l1Ttl', 'name', 'redisUrl', 'redisOptions', 'channel', 'bus', 'clock', 'closeTiers', 'timeouts'])
const TIER_METHODS = ['get', 'set', 'invalidate', 'clear', 'close', 'getMany', 'setMany', 'has', 'stats']

/**
 * L1 (local) over L2 (shared): the facade over a TieredStore (tiered-store.ts). Reads L1 then
 * L2 (filling L1 for at most `l1Ttl`), writes both, and tells other instances through Redis
 * pub/sub to drop their L1 copy of every key written or invalidated here. See docs/tiered.md.
 * A RedisCache L2 keeps no memory fallback of its own here: the L1 serves during outages.
 *
 * Events: 'error' (bus connection errors), 'resync' ({ cleared }: L1 cleared after a (re)subscription, or
 * kept because it is machine-wide and another process stayed subscribed),
 * 'invalidated' (keys dropped on another instance's message; undefined for a clear).
 */
export class TieredCache<V = unknown> extends AsyncStoreFacade<V> {
  readonly l1: Cache<V>
  readonly l2: Cache<V>
  readonly l1Ttl: number
  readonly #tiers: TieredStore<V>

  constructor(options: TieredCacheOptions<V>) {
    checkOptionsObject(options, 'TieredCache')
    if (options === undefined) throw new CacheOptionError('TieredCache needs options { l1, l2 }')
    checkKnownOptions(options, KNOWN, 'TieredCache option')
    const l1 = checkTier<V>(options.l1, 'l1')
    const l2 = checkTier<V>(options.l2, 'l2')
    if (l1 === l2) throw new CacheOptionError('l1 and l2 must be two different caches')
    const { seconds: l1Ttl, ms: l1TtlMs } = ttlOption(options.l1Ttl ?? 10, 'l1Ttl')
    if (l1TtlMs === 0) throw new CacheOptionError(`l1Ttl must be a positive finite number of seconds, got ${describe(l1Ttl)}`)
    const name = checkName(options.name ?? 'tiered')
    const clock = checkClock(options.clock) ?? Date.now
    const timeouts = resolveTimeouts(options.timeouts, 'TieredCache timeouts')
    const bus = busOption(options, l2)
    const closeTiers = booleanOption(options.closeTiers, true, 'TieredCache closeTiers')
    const store = new TieredStore<V>(l1, l2, l1TtlMs, bus, closeTiers)
    // No ttl: the L2's defaultTtl applies there, so it bounds the L1 copy too.
    super(store, { name, defaultTtlMs: ttlToMs(defaultTtlOf(l2), 'defaultTtl'), clock, warningCode: 'ASTRA_CACHE_TIERED', timeouts, timers: timersOf(options) })
    this.#tiers = store
    this.l1 = l1
    this.l2 = l2
    this.l1Ttl = l1Ttl
    ;(l2 as { [joinTier]?: () => void })[joinTier]?.()
  }

  tierStats(): TierStats {
    return this.#tiers.tierStats()
  }
}

function checkTier<V>(tier: unknown, what: string): Cache<V> {
  if (!hasMethods(tier, TIER_METHODS)) throw new CacheOptionError(`${what} must be a Cache (e.g. ${what === 'l1' ? 'an InMemoryLRUCache' : 'a RedisCache'}), got ${describe(tier)}`)
  return tier as Cache<V>
}

const BUS_METHODS = ['start', 'publishKeys', 'publishClear', 'close'] as const
/** The options only the bus TieredCache makes itself reads. */
const DEFAULT_BUS_OPTIONS = ['redisUrl', 'redisOptions', 'channel'] as const

/** undefined: no bus (`bus: false`). A given bus makes the default bus's options meaningless, so they are refused, not dropped. */
function busOption<V>(options: TieredCacheOptions<V>, l2: Cache<V>): InvalidationBus | undefined {
  if (options.bus === undefined) return defaultBus(options, l2)
  if (options.bus !== false && !hasMethods(options.bus, BUS_METHODS)) {
    throw new CacheOptionError(`TieredCache bus must be an InvalidationBus (such as new RedisInvalidationBus({ redisUrl, channel })) or false for a single instance, got ${describe(options.bus)}`)
  }
  const unused = DEFAULT_BUS_OPTIONS.filter((key) => options[key] !== undefined)
  if (unused.length > 0) {
    const given = options.bus === false ? 'bus: false (no bus)' : 'a bus of your own'
    throw new CacheOptionError(`TieredCache ${unused.join(' and ')} would be ignored with ${given}: ${unused.length > 1 ? 'they configure' : 'it configures'} the bus TieredCache makes when bus is not given${options.bus === false ? '' : `; pass ${unused.length > 1 ? 'them' : 'it'} to your bus`}`)
  }
  return options.bus === false ? undefined : options.bus
}

function defaultTtlOf(cache: Cache<unknown>): number {
  const ttl = (cache as { defaultTtl?: unknown }).defaultTtl
  return typeof ttl === 'number' ? ttl : 60
}

/** What a RedisCache may tell about its connection. */
interface ConnectionSource {
  keyPrefix?: string
  /** undefined when the RedisCache was given a client instead of a URL. */
  connectionOptions?(): { redisUrl: string; redisOptions?: RedisOptions; commandTimeoutMs?: number } | undefined
}

function defaultBus<V>(options: TieredCacheOptions<V>, l2: Cache<V>): InvalidationBus {
  const source = l2 as unknown as ConnectionSource
  const fromL2 = typeof source.connectionOptions === 'function' ? source.connectionOptions() : undefined
  const redisUrl = options.redisUrl ?? fromL2?.redisUrl
  if (redisUrl === undefined) {
    throw new CacheOptionError('TieredCache needs redisUrl for its invalidation channel (the l2 does not tell its own), or bus: false for a single instance')
  }
  const prefix = typeof source.keyPrefix === 'string' ? source.keyPrefix : 'astra:cache:'
  return new RedisInvalidationBus({
    redisUrl,
    redisOptions: options.redisOptions ?? fromL2?.redisOptions,
    commandTimeoutMs: fromL2?.commandTimeoutMs,
    channel: options.channel ?? `${prefix}__invalidate`,
  })
}
