import test from 'ava'
import { Redis } from 'ioredis'
import { ENV_DEFAULTS, createCache, getDefaultCache, readCacheConfig, setDefaultCache } from '../src/config'
import { redactUrl as redactRedisUrl } from '../src/redis/redact'
import { CacheConfigError, CacheOptionError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { NullCache } from '../src/null/null-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { redisTestsOrSkip, startRedis, type RedisServer } from './helpers/redis-server'

let server: RedisServer | undefined
test.after.always(async () => {
  await server?.stop()
})

test('defaults are exactly the seed ones: caching disabled gives a NullCache', async (t) => {
  t.deepEqual(readCacheConfig({}), {
    enabled: false,
    backend: 'memory',
    maxsize: 1024,
    ttlSeconds: 60,
    redisUrl: 'redis://localhost:6379',
    keyPrefix: 'astra:cache:',
    engine: 'auto',
    policy: 'lru',
    redisCommandTimeoutMs: undefined,
  })
  t.like(ENV_DEFAULTS, { CACHE_ENABLED: 'false', CACHE_BACKEND: 'memory', CACHE_MAXSIZE: '1024', CACHE_TTL_SECONDS: '60', CACHE_REDIS_URL: 'redis://localhost:6379', CACHE_KEY_PREFIX: 'astra:cache:' })
  const cache = createCache({})
  t.true(cache instanceof NullCache)
  await cache.set('k', 1)
  t.is(await cache.get('k'), undefined)
})

test('booleans: true/false/1/0/yes/no/on/off in any case, whitespace trimmed', (t) => {
  for (const word of ['true', 'TRUE', 'True', '1', 'yes', 'YES', 'on', 'On', '  true  ', '\tyes\n']) {
    t.true(readCacheConfig({ CACHE_ENABLED: word }).enabled, word)
  }
  for (const word of ['false', 'FALSE', '0', 'no', 'No', 'off', 'OFF', ' off ']) {
    t.false(readCacheConfig({ CACHE_ENABLED: word }).enabled, word)
  }
})

test('invalid values are a CacheConfigError naming the variable, the value and what is allowed', (t) => {
  const cases: [string, string, RegExp][] = [
    ['CACHE_ENABLED', 'maybe', /^CACHE_ENABLED="maybe" is not valid: expected one of true\/false\/1\/0\/yes\/no\/on\/off \(any case\)$/],
    ['CACHE_ENABLED', 'truee', /CACHE_ENABLED="truee"/],
    ['CACHE_BACKEND', 'memcached', /^CACHE_BACKEND="memcached" is not valid: expected one of memory, redis$/],
    ['CACHE_MAXSIZE', '0', /^CACHE_MAXSIZE="0" is not valid: expected an integer from 1 to 1073741824$/],
    ['CACHE_MAXSIZE', '-5', /CACHE_MAXSIZE="-5"/],
    ['CACHE_MAXSIZE', '1.5', /CACHE_MAXSIZE="1.5"/],
    ['CACHE_MAXSIZE', '1e3', /CACHE_MAXSIZE="1e3"/],
    ['CACHE_MAXSIZE', '12abc', /CACHE_MAXSIZE="12abc"/],
    ['CACHE_MAXSIZE', '99999999999', /CACHE_MAXSIZE="99999999999"/],
    ['CACHE_TTL_SECONDS', '-1', /^CACHE_TTL_SECONDS="-1" is not valid: expected a non-negative number of seconds \(fractions allowed; 0 = no expiry\) or a duration such as '5m'$/],
    ['CACHE_TTL_SECONDS', 'ten', /CACHE_TTL_SECONDS="ten"/],
    ['CACHE_TTL_SECONDS', 'NaN', /CACHE_TTL_SECONDS="NaN"/],
    ['CACHE_REDIS_URL', 'http://localhost:6379', /^CACHE_REDIS_URL="http:\/\/localhost:6379" is not valid: expected a redis:\/\/, rediss:\/\/ or redis\+sentinel:\/\/ URL$/],
    ['CACHE_REDIS_URL', 'localhost:6379', /CACHE_REDIS_URL="localhost:6379" is not valid/],
    ['CACHE_REDIS_URL', 'not a url', /CACHE_REDIS_URL="not a url" is not valid: expected a URL such as redis:\/\//],
    ['CACHE_ENGINE', 'rust', /^CACHE_ENGINE="rust" is not valid: expected one of auto, native, js$/],
    ['CACHE_POLICY', 'arc', /^CACHE_POLICY="arc" is not valid: expected one of lru, s3fifo, tinylfu$/],
    ['CACHE_REDIS_COMMAND_TIMEOUT_MS', '0', /^CACHE_REDIS_COMMAND_TIMEOUT_MS="0" is not valid: expected an integer number of milliseconds from 1 to 2147483647, or a duration such as '2s'$/],
    ['CACHE_REDIS_COMMAND_TIMEOUT_MS', 'soon', /CACHE_REDIS_COMMAND_TIMEOUT_MS="soon"/],
    ['CACHE_REDIS_COMMAND_TIMEOUT_MS', '0.5ms', /CACHE_REDIS_COMMAND_TIMEOUT_MS="0.5ms"/],
  ]
  for (const [variable, value, message] of cases) {
    // Checked even while caching is disabled, so a typo fails at startup.
    const error = t.throws(() => createCache({ [variable]: value }), { instanceOf: CacheConfigError }, `${variable}=${value}`)
    t.is(error!.code, 'ERR_CACHE_CONFIG')
    t.regex(error!.message, message)
  }
})

test('a misspelt variable is refused with the name it is close to; other tools\' CACHE_* variables pass', (t) => {
  const typos: [string, string][] = [
    ['CACHE_BACKND', 'CACHE_BACKEND'],
    ['CACHE_MAX_SIZE', 'CACHE_MAXSIZE'],
    ['CACHE_ENABLE', 'CACHE_ENABLED'],
    ['cache_enabled', 'CACHE_ENABLED'],
    ['CACHE_TTL_SECOND', 'CACHE_TTL_SECONDS'],
    ['CACHE_POLCIY', 'CACHE_POLICY'],
    ['ASTRA_CACHE_ENGIN', 'ASTRA_CACHE_ENGINE'],
  ]
  for (const [typo, meant] of typos) {
    // Even while caching is disabled: the typo would otherwise go unnoticed until it is enabled.
    const error = t.throws(() => createCache({ [typo]: 'redis' }), { instanceOf: CacheConfigError }, typo)
    t.is(error!.code, 'ERR_CACHE_CONFIG')
    t.true(error!.message.startsWith(`unknown environment variable ${typo}: did you mean ${meant}? (astra-cache reads CACHE_ENABLED, `), error!.message)
  }
  const others = { CACHE_DIR: '/tmp/c', CACHE_TTL: '5', CACHE_PREFIX: 'app', CACHE_URL: 'x', CACHE_DRIVER: 'file', CACHE_TYPE: 'simple', NODE_ENV: 'test' }
  t.is(readCacheConfig(others).backend, 'memory')
})

test('a variable that is ours cut before its suffix (CACHE_TTL) warns once, naming the full one, and is not read', async (t) => {
  const seen: string[] = []
  const listener = (w: Error & { code?: string }) => {
    if (w.code === 'ASTRA_CACHE_UNREAD_VARIABLE') seen.push(w.message)
  }
  process.on('warning', listener)
  try {
    const env = { CACHE_TTL: '300', CACHE_REDIS_COMMAND_TIMEOUT: '2000' }
    t.is(readCacheConfig(env).ttlSeconds, 60)
    t.is(readCacheConfig(env).redisCommandTimeoutMs, undefined)
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  t.deepEqual(seen, [
    'CACHE_TTL is not read by astra-cache; if it was meant for it, the variable is CACHE_TTL_SECONDS',
    'CACHE_REDIS_COMMAND_TIMEOUT is not read by astra-cache; if it was meant for it, the variable is CACHE_REDIS_COMMAND_TIMEOUT_MS',
  ])
})

test('a Redis URL password never appears in the error', (t) => {
  for (const url of ['http://admin:s3cr3t-pw@localhost:6379', 'redis://:s3cr3t-pw@', 'redis://admin:s3cr3t-pw@/0', 'admin:s3cr3t-pw@localhost', 'redis://admin:s3cr@t-pw@:bad']) {
    const error = t.throws(() => readCacheConfig({ CACHE_REDIS_URL: url }), { instanceOf: CacheConfigError }, url)
    t.notRegex(error!.message, /s3cr/, url)
    t.regex(error!.message, /\*\*\*@/, url)
  }
  t.is(redactRedisUrl('redis://user:pw@host:6379/1'), 'redis://user:***@host:6379/1')
  t.is(redactRedisUrl('rediss://token@host'), 'rediss://***@host')
  t.is(redactRedisUrl('redis://host:6379'), 'redis://host:6379')
})

test('a set-but-empty variable means the default, except CACHE_KEY_PREFIX where "" is no prefix', (t) => {
  const config = readCacheConfig({ CACHE_ENABLED: '', CACHE_BACKEND: ' ', CACHE_MAXSIZE: '', CACHE_TTL_SECONDS: '', CACHE_REDIS_URL: '', CACHE_ENGINE: '', CACHE_KEY_PREFIX: '' })
  t.like(config, { enabled: false, backend: 'memory', maxsize: 1024, ttlSeconds: 60, redisUrl: 'redis://localhost:6379', engine: 'auto', keyPrefix: '' })
  t.is(readCacheConfig({ CACHE_KEY_PREFIX: ' app: ' }).keyPrefix, ' app: ', 'the prefix is used verbatim')
})

test('memory backend from the environment', async (t) => {
  const cache = createCache({ CACHE_ENABLED: 'on', CACHE_BACKEND: 'Memory', CACHE_MAXSIZE: '10', CACHE_TTL_SECONDS: '0.5', CACHE_ENGINE: 'js' })
  t.true(cache instanceof InMemoryLRUCache)
  const memory = cache as InMemoryLRUCache
  t.is(memory.maxsize, 10)
  t.is(memory.defaultTtl, 0.5)
  t.is(memory.engine, 'js')
  t.is(cache.stats().maxsize, 10)
  await cache.set('k', 1)
  t.is(await cache.get('k'), 1)
  await cache.close()
})

test('overrides win over the environment and carry name and metricsSink', async (t) => {
  const attached: string[] = []
  const cache = createCache({ CACHE_ENABLED: 'false', CACHE_MAXSIZE: '10' }, { enabled: true, engine: 'js', maxsize: 5, name: 'sessions', metricsSink: { attach: (source) => attached.push(source.name) } })
  t.true(cache instanceof InMemoryLRUCache)
  t.is((cache as InMemoryLRUCache).maxsize, 5)
  t.is(cache.name, 'sessions')
  t.deepEqual(attached, ['sessions'])
  await cache.close()
  t.is(createCache({}, { name: 'off' }).name, 'off')
  t.throws(() => createCache({}, 'x' as never), { instanceOf: CacheOptionError, message: /overrides must be an object, got "x"/ })
  t.throws(() => createCache({}, { enabled: true, engine: 'js', maxsize: 0 }), { instanceOf: CacheOptionError, message: /maxsize must be an integer/ })
})

test('overrides: an unknown key or a value of the wrong type is refused by name, not ignored or taken as truthy', (t) => {
  const refused = (overrides: object, message: RegExp) => t.throws(() => createCache({}, overrides as never), { instanceOf: CacheOptionError, message })
  refused({ enabled: true, backnd: 'redis' }, /unknown createCache override "backnd": did you mean backend\? \(known: enabled, backend, /)
  refused({ enabled: 'yes' }, /override enabled must be true or false, got "yes"/)
  refused({ enabled: 'false' }, /override enabled must be true or false, got "false"/)
  refused({ enabled: true, ttlSeconds: '60' }, /override ttlSeconds must be a number of seconds.*got "60"/)
  refused({ enabled: true, ttlSeconds: -1 }, /override ttlSeconds .*got -1/)
  refused({ enabled: true, backend: 'redis', redisCommandTimeoutMs: '250' }, /override redisCommandTimeoutMs must be a number of milliseconds, got "250"/)
  // undefined values are "not given", as before
  const cache = createCache({ CACHE_ENABLED: 'true' }, { maxsize: undefined, engine: 'js', ttlSeconds: Infinity })
  t.true(cache instanceof InMemoryLRUCache)
  t.is((cache as InMemoryLRUCache).maxsize, 1024)
})

if (redisTestsOrSkip(test, 'createCache with CACHE_BACKEND=redis')) test.serial('redis backend from the environment, against a real redis-server', async (t) => {
  server = await startRedis()
  const cache = createCache({
    CACHE_ENABLED: 'yes',
    CACHE_BACKEND: 'REDIS',
    CACHE_REDIS_URL: server.url,
    CACHE_KEY_PREFIX: 'cfg-test:',
    CACHE_TTL_SECONDS: '120',
    CACHE_REDIS_COMMAND_TIMEOUT_MS: '250',
  })
  const raw = new Redis(server.url)
  try {
    t.true(cache instanceof RedisCache)
    t.is((cache as RedisCache).commandTimeoutMs, 250)
    t.is((cache as RedisCache).keyPrefix, 'cfg-test:')
    await cache.set('k', { a: 1 })
    t.deepEqual(await cache.get('k'), { a: 1 })
    t.is(await raw.get('cfg-test:k'), '{"a":1}')
    const ttl = await raw.pttl('cfg-test:k')
    t.true(ttl > 110_000 && ttl <= 120_000, `pttl ${ttl}`)
  } finally {
    raw.disconnect()
    await cache.close()
  }
})

test.serial('the process default cache: lazy from process.env, replaceable, resettable', async (t) => {
  const saved = { ...process.env }
  try {
    setDefaultCache(undefined)
    delete process.env.CACHE_ENABLED
    const first = getDefaultCache()
    t.true(first instanceof NullCache)
    t.is(getDefaultCache(), first, 'created once')

    const mine = new InMemoryLRUCache({ engine: 'js' })
    setDefaultCache(mine)
    t.is(getDefaultCache(), mine)

    setDefaultCache(undefined)
    process.env.CACHE_ENABLED = 'true'
    process.env.CACHE_ENGINE = 'js'
    process.env.CACHE_MAXSIZE = '7'
    const fromEnv = getDefaultCache()
    t.true(fromEnv instanceof InMemoryLRUCache)
    t.is((fromEnv as InMemoryLRUCache).maxsize, 7)
    await fromEnv.close()

    t.throws(() => setDefaultCache({ get: 1 } as never), { instanceOf: CacheOptionError, message: /setDefaultCache expects a Cache/ })
  } finally {
    process.env = saved
    setDefaultCache(undefined)
  }
})

test('CACHE_POLICY picks the memory eviction policy (any case); overrides win', async (t) => {
  t.is(readCacheConfig({ CACHE_POLICY: 'TinyLFU' }).policy, 'tinylfu')
  t.is(readCacheConfig({ CACHE_POLICY: '' }).policy, 'lru', 'empty means the default')
  const cache = createCache({ CACHE_ENABLED: 'on', CACHE_POLICY: 's3fifo', CACHE_ENGINE: 'js' }) as InMemoryLRUCache
  t.is(cache.policy, 's3fifo')
  await cache.close()
  const overridden = createCache({ CACHE_ENABLED: 'on', CACHE_POLICY: 's3fifo', CACHE_ENGINE: 'js' }, { policy: 'tinylfu' }) as InMemoryLRUCache
  t.is(overridden.policy, 'tinylfu')
  await overridden.close()
})
