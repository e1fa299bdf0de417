import test from 'ava'
import { CacheError, CacheOptionError } from '../src/errors'
import { JS_ENGINE_MAX_ENTRIES } from '../src/memory/js-engine'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { NATIVE_REFERENCE_MAX_ENTRIES } from '../src/memory/native-engine'
import { engineFromEnv, selectEngine } from '../src/native'
import { MAX_MAXSIZE } from '../src/validate'
import { FakeClock } from './helpers/fake-clock'
import { enginesUnderTest } from './helpers/engines'

function rejects(t: import('ava').ExecutionContext, options: unknown, code: CacheError['code'], mentions: RegExp[]) {
  const err = t.throws(() => new InMemoryLRUCache(options as never))
  t.true(err instanceof CacheError, `${String(err)}`)
  t.is((err as CacheError).code, code)
  for (const m of mentions) t.regex(err!.message, m)
}

test('maxsize must be an integer from 1 to MAX_MAXSIZE; the message names the option and value', (t) => {
  for (const [bad, shown] of [[0, /\b0\b/], [-1, /-1/], [1.5, /1\.5/], [NaN, /NaN/], [1e12, /1000000000000/], ['10', /"10"/], [null, /null/], [MAX_MAXSIZE + 1, new RegExp(String(MAX_MAXSIZE + 1))]] as const) {
    rejects(t, { maxsize: bad }, 'ERR_CACHE_INVALID_OPTION', [/maxsize/, shown])
  }
  t.is(new InMemoryLRUCache({ maxsize: 1, engine: 'js' }).maxsize, 1)
})

test('defaultTtl must be a non-negative number', (t) => {
  for (const bad of [-1, NaN, '60', null, -Infinity]) rejects(t, { defaultTtl: bad }, 'ERR_CACHE_INVALID_TTL', [/defaultTtl/])
})

test('engine must be native, js or auto', (t) => {
  rejects(t, { engine: 'rust' }, 'ERR_CACHE_INVALID_OPTION', [/engine/, /"rust"/])
  rejects(t, { engine: 1 }, 'ERR_CACHE_INVALID_OPTION', [/engine/, /1 \(number\)/])
})

test('options of the wrong type are rejected with the option named', (t) => {
  rejects(t, 'big', 'ERR_CACHE_INVALID_OPTION', [/options must be an object/, /"big"/])
  rejects(t, [], 'ERR_CACHE_INVALID_OPTION', [/an array/])
  rejects(t, { name: '' }, 'ERR_CACHE_INVALID_OPTION', [/name/])
  rejects(t, { name: 5 }, 'ERR_CACHE_INVALID_OPTION', [/name/, /5 \(number\)/])
  rejects(t, { clock: 123 }, 'ERR_CACHE_INVALID_OPTION', [/clock/])
  // A clock that returns no number made every expiry check false: entries never expired.
  rejects(t, { clock: () => new Date() }, 'ERR_CACHE_INVALID_OPTION', [/clock must return milliseconds as a finite number, it returned a Date: use \(\) => Date\.now\(\)/])
  rejects(t, { clock: () => process.hrtime.bigint() }, 'ERR_CACHE_INVALID_OPTION', [/it returned \d+n \(bigint\): convert it/])
  rejects(t, { clock: () => undefined }, 'ERR_CACHE_INVALID_OPTION', [/it returned undefined/])
  rejects(t, { clock: () => NaN, engine: 'native' }, 'ERR_CACHE_INVALID_OPTION', [/it returned NaN \(number\)/])
  rejects(t, { clock: () => '5' }, 'ERR_CACHE_INVALID_OPTION', [/it returned "5" \(string\)/])
  rejects(t, { metricsSink: {} }, 'ERR_CACHE_INVALID_OPTION', [/metricsSink/])
  rejects(t, { storage: 'disk' }, 'ERR_CACHE_INVALID_OPTION', [/storage/, /"disk"/])
  rejects(t, { maxSize: 10 }, 'ERR_CACHE_INVALID_OPTION', [/unknown InMemoryLRUCache option "maxSize"/])
})

test('defaults: maxsize 1024, defaultTtl 60, name memory', (t) => {
  const c = new InMemoryLRUCache({ engine: 'js' })
  t.is(c.maxsize, 1024)
  t.is(c.defaultTtl, 60)
  t.is(c.name, 'memory')
  t.is(c.stats().maxsize, 1024)
})

test('ASTRA_CACHE_ENGINE overrides the engine option; a bad value names the variable', (t) => {
  t.is(selectEngine('native', { ASTRA_CACHE_ENGINE: 'js' }), 'js')
  t.is(engineFromEnv({ ASTRA_CACHE_ENGINE: ' Native ' }), 'native')
  t.is(engineFromEnv({}), undefined)
  t.is(selectEngine('js', { ASTRA_CACHE_ENGINE: '' }), 'js')
  const err = t.throws(() => selectEngine('auto', { ASTRA_CACHE_ENGINE: 'fast' }))
  t.is((err as CacheError).code, 'ERR_CACHE_INVALID_OPTION')
  t.regex(err!.message, /ASTRA_CACHE_ENGINE/)
  t.regex(err!.message, /"fast"/)
})

for (const engine of enginesUnderTest()) {
  test(`${engine}: the engine property tells which engine serves the cache`, (t) => {
    t.is(new InMemoryLRUCache({ engine }).engine, engine)
  })

  test(`${engine}: values are stored by reference`, async (t) => {
    const c = new InMemoryLRUCache<{ n: number }>({ engine })
    const v = { n: 1 }
    await c.set('k', v)
    t.is(await c.get('k'), v)
  })

  test(`${engine}: an entry expires exactly at its deadline, not before`, async (t) => {
    const clock = new FakeClock()
    const c = new InMemoryLRUCache({ engine, clock: clock.now, defaultTtl: 1 })
    await c.set('k', 'v')
    clock.advance(999.9)
    t.is(await c.get('k'), 'v')
    clock.advance(0.1)
    t.is(await c.get('k'), undefined)
  })

  test(`${engine}: lone surrogates are distinct keys`, async (t) => {
    const c = new InMemoryLRUCache({ engine })
    await c.set('\uD800', 1)
    await c.set('\uDC00', 2)
    await c.set('\uFFFD', 3)
    t.deepEqual(await c.getMany(['\uD800', '\uDC00', '\uFFFD']), [1, 2, 3])
  })

  test(`${engine}: set-time sweep reclaims expired entries that are not at the LRU end`, async (t) => {
    const clock = new FakeClock()
    const c = new InMemoryLRUCache({ engine, clock: clock.now, maxsize: 100, defaultTtl: 0 })
    for (let i = 0; i < 10; i++) await c.set(`short${i}`, i, 1)
    for (let i = 0; i < 10; i++) await c.set(`long${i}`, i)
    clock.advance(2000)
    // 10 more sets sweep 20 slots: every expired entry is found without being read.
    for (let i = 0; i < 10; i++) await c.set(`long${i}`, i)
    const s = c.stats()
    t.is(s.expirations, 10)
    t.is(s.size, 10)
  })

  test(`${engine}: getOrSet does not cache undefined`, async (t) => {
    const c = new InMemoryLRUCache<unknown>({ engine })
    let calls = 0
    t.is(await c.getOrSet('k', () => { calls++; return undefined }), undefined)
    t.is(await c.getOrSet('k', () => { calls++; return undefined }), undefined)
    t.is(calls, 2)
    t.false(await c.has('k'))
  })
}

// ---- capacity limits: every engine accepts exactly what it can hold, and says so at construction ----

test(`the JS engine holds up to ${JS_ENGINE_MAX_ENTRIES} entries (V8's Map limit) and refuses more at construction`, async (t) => {
  const c = new InMemoryLRUCache<number>({ engine: 'js', maxsize: JS_ENGINE_MAX_ENTRIES })
  await c.set('k', 1)
  t.is(await c.get('k'), 1)
  t.is(c.stats().maxsize, JS_ENGINE_MAX_ENTRIES)
  const err = t.throws(() => new InMemoryLRUCache({ engine: 'js', maxsize: JS_ENGINE_MAX_ENTRIES + 1 }), { instanceOf: CacheOptionError })
  t.regex(err!.message, new RegExp(`maxsize ${JS_ENGINE_MAX_ENTRIES + 1} .*JS engine holds \\(${JS_ENGINE_MAX_ENTRIES}`))
  t.is((err as CacheError).code, 'ERR_CACHE_INVALID_OPTION')
})

if (enginesUnderTest().includes('native')) {
  test(`native reference storage holds up to ${NATIVE_REFERENCE_MAX_ENTRIES} entries; serialized storage up to ${MAX_MAXSIZE}`, async (t) => {
    for (const policy of ['lru', 'tinylfu'] as const) {
      const c = new InMemoryLRUCache<number>({ engine: 'native', maxsize: NATIVE_REFERENCE_MAX_ENTRIES, policy })
      await c.set('k', 1)
      t.is(await c.get('k'), 1)
      await c.close()
    }
    const err = t.throws(() => new InMemoryLRUCache({ engine: 'native', maxsize: NATIVE_REFERENCE_MAX_ENTRIES + 1 }), { instanceOf: CacheOptionError })
    t.regex(err!.message, /reference storage holds .*storage: 'serialized'/)
    const big = new InMemoryLRUCache<string>({ engine: 'native', storage: 'serialized', maxsize: MAX_MAXSIZE })
    await big.set('k', 'v')
    t.is(await big.get('k'), 'v')
    t.is(big.stats().maxsize, MAX_MAXSIZE)
    await big.close()
  })
}
