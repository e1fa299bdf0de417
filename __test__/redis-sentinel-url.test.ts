/**
 * The `redis+sentinel://` URL form and ioredis Sentinel options, as RedisCache and
 * CACHE_REDIS_URL take them: what is parsed, what is refused (with a message naming the fault
 * and no password in it), and the options the client gets. No server needed.
 */
import { inspect } from 'node:util'
import test from 'ava'
import { readCacheConfig } from '../src/config'
import { resolveOptions } from '../src/redis/options'
import { RedisCache } from '../src/redis/redis-cache'
import { parseSentinelUrl, sentinelUrlProblem } from '../src/redis/sentinel'

test('parses sentinels, master name, db and credentials', (t) => {
  t.deepEqual(parseSentinelUrl('redis+sentinel://app:s%40cret@10.0.0.1:26380,sentinel-b,[::1]:26381/mymaster/2'), {
    sentinels: [
      { host: '10.0.0.1', port: 26380 },
      { host: 'sentinel-b', port: 26379 },
      { host: '::1', port: 26381 },
    ],
    name: 'mymaster',
    db: 2,
    username: 'app',
    password: 's@cret',
  })
  t.deepEqual(parseSentinelUrl('redis+sentinel://:pw@h:1/m%2Fx/'), { sentinels: [{ host: 'h', port: 1 }], name: 'm/x', db: undefined, username: undefined, password: 'pw' })
  t.deepEqual(parseSentinelUrl('REDIS+SENTINEL://h/m').name, 'm', 'the scheme is case-insensitive')
})

test('refuses malformed Sentinel URLs, naming the fault, with the password masked', (t) => {
  const cases: [string, RegExp][] = [
    ['redis+sentinel://:topsecret@h:1', /names no master/],
    ['redis+sentinel://:topsecret@h:1/', /names no master/],
    ['redis+sentinel://:topsecret@h:99999/m', /port out of range/],
    ['redis+sentinel://:topsecret@h:1,/m', /not host:port/],
    ['redis+sentinel://:topsecret@h:1/m/x', /database that is not a number/],
    ['redis+sentinel://:topsecret@h:1/m/1/2', /path longer/],
    ['redis+sentinel://:topsecret@h:1/m?sentinelPassword=x', /query or fragment/],
    ['redis+sentinel://:top%E0secret@h:1/m', /percent-encoding in its credentials/],
  ]
  for (const [url, message] of cases) {
    const err = t.throws(() => new RedisCache({ redisUrl: url }), { code: 'ERR_CACHE_INVALID_OPTION', message } as never)
    t.false(err!.message.includes('topsecret') || err!.message.includes('top%E0secret'), err!.message)
    t.regex(err!.message, /redis\+sentinel:\/\/:\*\*\*@h/)
  }
})

test('CACHE_REDIS_URL takes a Sentinel URL and refuses a malformed one with CacheConfigError', (t) => {
  const url = 'redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/1'
  t.is(readCacheConfig({ CACHE_REDIS_URL: url }).redisUrl, url)
  const err = t.throws(() => readCacheConfig({ CACHE_REDIS_URL: 'redis+sentinel://:hunter22@127.0.0.1:26379' }), { code: 'ERR_CACHE_CONFIG', message: /CACHE_REDIS_URL.*names no master/ } as never)
  t.false(err!.message.includes('hunter22'))
  t.is(sentinelUrlProblem(url), undefined)
})

test('the client options: sentinels, name, db and credentials from the URL, failover following on, yours win', (t) => {
  const o = resolveOptions({ redisUrl: 'redis+sentinel://app:pw@h1:1,h2:2/mymaster/3', commandTimeoutMs: 800, redisOptions: { sentinelPassword: 'sentinel-pw', failoverDetector: false } })
  t.deepEqual(o.redisOptions.sentinels, [{ host: 'h1', port: 1 }, { host: 'h2', port: 2 }])
  t.is(o.redisOptions.name, 'mymaster')
  t.is(o.redisOptions.db, 3)
  t.is(o.redisOptions.username, 'app')
  t.is(o.redisOptions.password, 'pw')
  t.is(o.redisOptions.sentinelPassword, 'sentinel-pw')
  t.is(o.redisOptions.failoverDetector, false, 'an explicit option wins over the default')
  t.is(o.redisOptions.sentinelCommandTimeout, 1600)
  t.is(o.password, 'pw')
  t.is(o.safeUrl, 'redis+sentinel://app:***@h1:1,h2:2/mymaster/3')
  const reconnect = o.redisOptions.reconnectOnError as (err: Error) => unknown
  t.is(reconnect(new Error("READONLY You can't write against a read only replica.")), 1, 'a demoted master sends the client back to the sentinels')
  t.is(reconnect(new Error('ERR other')), false)

  const plain = resolveOptions({ redisOptions: { sentinels: [{ host: 'h', port: 1 }], name: 'm' } })
  t.is(plain.redisOptions.failoverDetector, true, 'ioredis Sentinel options get the same defaults')
  t.throws(() => resolveOptions({ redisOptions: { sentinels: [{ host: 'h', port: 1 }] } }), { code: 'ERR_CACHE_INVALID_OPTION', message: /redisOptions\.name/ } as never)
  t.throws(() => resolveOptions({ redisOptions: { sentinels: [] } }), { code: 'ERR_CACHE_INVALID_OPTION', message: /non-empty array/ } as never)
})

test('no password in inspect() or in errors of a Sentinel cache that cannot connect', async (t) => {
  const cache = new RedisCache({ redisUrl: 'redis+sentinel://app:verysecret@127.0.0.1:1/mymaster', commandTimeoutMs: 100, redisOptions: { sentinelPassword: 'sentinelsecret' } })
  const errors: Error[] = []
  cache.on('error', (err) => errors.push(err))
  t.teardown(() => cache.close())
  t.regex(inspect(cache), /redis\+sentinel:\/\/app:\*\*\*@127\.0\.0\.1:1\/mymaster/)
  t.is(await cache.get('k'), undefined, 'fails open')
  const deadline = Date.now() + 5000
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.true(errors.length > 0)
  for (const err of errors) {
    const text = `${err.message} ${err.stack} ${inspect(err)}`
    t.false(text.includes('verysecret') || text.includes('sentinelsecret'), text)
  }
})
