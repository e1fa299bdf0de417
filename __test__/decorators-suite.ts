/**
 * Behaviour of cached()/cacheInvalidate() against a real backend. Imported by
 * decorators-memory.test.ts and decorators-redis.test.ts, which supply the cache.
 * Faults are injected by a thin wrapper around the real cache (faultyCache), never by a
 * fake backend.
 */
import type { TestFn } from 'ava'
import type { Cache } from '../src/contract/cache'
import { CacheKeyError, CacheTtlError, CacheUnavailableError } from '../src/errors'
import { cacheInvalidate, cached, type CacheFailure } from '../src/decorators'
import { CacheKeyEncodingError } from '../src/errors'
import { readNow, writeLoaded } from '../src/contract/capabilities'
import { waitFor } from './helpers/call-stream'

export interface DecoratorTarget {
  name: string
  /** A fresh, empty cache not shared with any other test. */
  create(): Promise<Cache>
}

/** A promise with its resolve/reject outside, to hold a function mid-flight. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

type Fault = 'throw' | 'reject' | 'hang'

/**
 * The real cache with one operation broken in the chosen way; everything else passes through.
 * A broken set also breaks writeLoaded (how cached() stores what it loaded): both are the cache's
 * write. A broken get also breaks readNow (how cached() reads a memory cache, synchronously):
 * it throws with the get, and is absent when the get rejects or hangs, which a synchronous read
 * cannot do, so the get itself is called.
 */
export function faultyCache(inner: Cache, op: 'get' | 'set' | 'invalidate', fault: Fault): Cache {
  const broken = (): Promise<never> => {
    if (fault === 'throw') throw new Error(`${op} exploded`)
    if (fault === 'reject') return Promise.reject(new Error(`${op} rejected`))
    return new Promise<never>(() => {}) // never settles
  }
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (op === 'get' && property === readNow) return fault === 'throw' ? broken : undefined
      if (property === op || (op === 'set' && property === writeLoaded)) return broken
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** The real cache, recording the arguments of every set() and every write of a loaded value (ttl in seconds). */
function recordingSets(inner: Cache): { cache: Cache; sets: unknown[][] } {
  const sets: unknown[][] = []
  const cache = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'set') {
        return (...args: unknown[]) => {
          sets.push(args)
          return (target.set as (...a: unknown[]) => Promise<void>)(...args)
        }
      }
      if (property === writeLoaded) {
        const write = Reflect.get(target, property, receiver) as (...a: unknown[]) => Promise<void>
        return (key: string, value: unknown, ttl: number | undefined, afterFailure: boolean) => {
          sets.push([key, value, ttl])
          return write.call(target, key, value, ttl, afterFailure)
        }
      }
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { cache, sets }
}

export function decoratorSuite(test: TestFn, target: DecoratorTarget): void {
  const title = (what: string) => `[${target.name}] ${what}`

  test(title('caches a result: the second call with the same arguments does not run the function'), async (t) => {
    const cache = await target.create()
    let calls = 0
    const getUser = cached({ cache })(async function getUser(id: string) {
      calls++
      return { id, name: `user ${id}` }
    })
    t.deepEqual(await getUser('42'), { id: '42', name: 'user 42' })
    t.deepEqual(await getUser('42'), { id: '42', name: 'user 42' })
    t.is(calls, 1)
    await getUser('43')
    t.is(calls, 2)
  })

  test(title('an update that invalidates while a read is loading: the read\'s older row is not cached over it'), async (t) => {
    const cache = await target.create()
    const db = new Map([['42', 'Ada']])
    const reading = deferred<void>()
    let started = false
    const getUser = cached({ cache, keyFn: (id: string) => `user:${id}` })(async function getUser(id: string) {
      const row = db.get(id) // read before the update lands
      started = true
      await reading.promise
      return row
    })
    const updateUser = cacheInvalidate({ cache, keyFn: (id: string) => `user:${id}` })(async function updateUser(id: string, name: string) {
      db.set(id, name)
    })
    const read = getUser('42')
    await waitFor(() => started, 5_000, 'the read started')
    await updateUser('42', 'Grace')
    reading.resolve()
    t.is(await read, 'Ada', 'the read returns what it read')
    await new Promise((r) => setImmediate(r))
    t.is(await cache.get('user:42'), undefined, 'the older row was not stored after the invalidation')
    t.is(await getUser('42'), 'Grace')
  })

  test(title('default key is prefix + function name + encoded arguments'), async (t) => {
    const cache = await target.create()
    const getUser = cached({ cache })(async function getUser(id: string, options: object) {
      return `${id}:${JSON.stringify(options)}`
    })
    const fetchItem = cached({ cache, prefix: 'api' })(async function fetchItem(id: number) {
      return id
    })
    await getUser('42', { b: 2, a: 1 })
    await fetchItem(7)
    t.true(await cache.has('getUser("42",{"a":1,"b":2})'))
    t.true(await cache.has('api:fetchItem(7)'))
  })

  test(title('keyFn builds the key from the arguments and this; prefix applies to it too'), async (t) => {
    const cache = await target.create()
    const getUser = cached({ cache, keyFn: (id: string) => `user:${id}` })(async (id: string) => ({ id }))
    const withPrefix = cached({ cache, prefix: 'api', keyFn: (id: string) => `item:${id}` })(async (id: string) => id)
    const usesThis = cached({
      cache,
      keyFn: function (this: { tenant: string }, id: string) {
        return `${this.tenant}:${id}`
      },
    })(async function (this: { tenant: string }, id: string) {
      return `${this.tenant}/${id}`
    })
    await getUser('1')
    await withPrefix('2')
    t.is(await usesThis.call({ tenant: 'acme' }, '3'), 'acme/3')
    t.deepEqual(await cache.get('user:1'), { id: '1' })
    t.is(await cache.get('api:item:2'), '2')
    t.is(await cache.get('acme:3'), 'acme/3')
  })

  test(title('object key order does not change the key'), async (t) => {
    const cache = await target.create()
    let calls = 0
    const search = cached({ cache })(async function search(query: object) {
      calls++
      return calls
    })
    await search({ a: 1, b: { c: 2, d: [1, { e: 3, f: 4 }] } })
    await search({ b: { d: [1, { f: 4, e: 3 }], c: 2 }, a: 1 })
    t.is(calls, 1)
  })

  test(title('distinct argument lists never share a cached result'), async (t) => {
    const cache = await target.create()
    const argLists: unknown[][] = [
      ['a,b'], ['a', 'b'], [1], ['1'], [null], [undefined], ['null'], ['undefined'], [], [[]], [{}],
      [true], ['true'], [1, 2], [[1, 2]], ['[1,2]'], [{ a: undefined }], [NaN], ['NaN'], [10n], ['10n'], [10],
      [new Date(0)], [new Date(0).toISOString()], [new Map([[1, 2]])], [new Set([1, 2])], [[1, 2, undefined]],
    ]
    let calls = 0
    const echo = cached({ cache })(async function echo(...args: unknown[]) {
      calls++
      return calls
    })
    const results: number[] = []
    for (const args of argLists) results.push(await echo(...args))
    t.is(new Set(results).size, argLists.length, 'every argument list got its own result')
    t.is(calls, argLists.length)
    for (let i = 0; i < argLists.length; i++) t.is(await echo(...argLists[i]), results[i], `hit for list ${i}`)
    t.is(calls, argLists.length)
  })

  test(title('an argument the key cannot encode rejects with ERR_CACHE_KEY_ENCODING and the function does not run'), async (t) => {
    const cache = await target.create()
    let calls = 0
    const run = cached({ cache })(async function run(arg: unknown) {
      calls++
      return arg
    })
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    for (const bad of [() => 1, Symbol('s'), cyclic, new (class Widget {})()]) {
      const error = await t.throwsAsync(run(bad), { instanceOf: CacheKeyEncodingError })
      t.is(error?.code, 'ERR_CACHE_KEY_ENCODING')
      t.regex(error!.message, /argument 1.*keyFn/)
      t.notRegex(error!.message, /\[object Object\]/)
    }
    t.is(calls, 0)
  })

  test(title('keyFn returning a non-string rejects with CacheKeyError before the function runs'), async (t) => {
    const cache = await target.create()
    let calls = 0
    const bad = cached({ cache, keyFn: ((id: string) => Number(id)) as unknown as (id: string) => string })(async (id: string) => {
      calls++
      return id
    })
    const error = await t.throwsAsync(bad('1'), { instanceOf: CacheKeyError })
    t.regex(error!.message, /keyFn must return a string key, got 1 \(number\)/)
    t.is(calls, 0)
  })

  test(title('concurrent misses of one key run the function once (single-flight)'), async (t) => {
    const cache = await target.create()
    const gate = deferred<void>()
    let calls = 0
    const slow = cached({ cache })(async function slow(id: string) {
      calls++
      await gate.promise
      return `value ${id}`
    })
    const pending = [slow('k'), slow('k'), slow('k'), slow('other')]
    // Let every caller get past its cache lookup before the function finishes.
    await new Promise((resolve) => setTimeout(resolve, 50))
    gate.resolve()
    t.deepEqual(await Promise.all(pending), ['value k', 'value k', 'value k', 'value other'])
    t.is(calls, 2)
  })

  test(title('a rejection is not cached and reaches every concurrent caller'), async (t) => {
    const cache = await target.create()
    let calls = 0
    const flaky = cached({ cache })(async function flaky(id: string) {
      calls++
      if (calls === 1) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        throw new Error(`db down for ${id}`)
      }
      return `ok ${id}`
    })
    const [first, second] = await Promise.allSettled([flaky('1'), flaky('1')])
    t.is(first.status, 'rejected')
    t.is(second.status, 'rejected')
    t.is((first as PromiseRejectedResult).reason.message, 'db down for 1')
    t.false(await cache.has('flaky("1")'))
    t.is(await flaky('1'), 'ok 1')
    t.is(calls, 2)
  })

  test(title('undefined is not cached; null is'), async (t) => {
    const cache = await target.create()
    let calls = 0
    const nothing = cached({ cache })(async function nothing() {
      calls++
      return undefined
    })
    const empty = cached({ cache })(async function empty() {
      calls++
      return null
    })
    t.is(await nothing(), undefined)
    t.is(await nothing(), undefined)
    t.is(calls, 2)
    t.false(await cache.has('nothing()'))
    t.is(await empty(), null)
    t.is(await empty(), null)
    t.is(calls, 3)
  })

  test(title('sync functions work and return a Promise; a sync throw becomes a rejection'), async (t) => {
    const cache = await target.create()
    let calls = 0
    const double = cached({ cache })(function double(n: number) {
      calls++
      if (n < 0) throw new RangeError('negative')
      return n * 2
    })
    const result = double(21)
    t.true(result instanceof Promise)
    t.is(await result, 42)
    t.is(await double(21), 42)
    t.is(calls, 1)
    await t.throwsAsync(double(-1), { instanceOf: RangeError, message: 'negative' })
  })

  test(title('this is preserved for wrapped functions and methods'), async (t) => {
    const cache = await target.create()
    class Repo {
      constructor(readonly table: string) {}
      find = cached({ cache, keyFn: function (this: Repo, id: string) { return `${this.table}:${id}` } })(async function (this: Repo, id: string) {
        return `${this.table}/${id}`
      })
    }
    t.is(await new Repo('users').find('1'), 'users/1')
    t.is(await new Repo('items').find('1'), 'items/1')
  })

  test(title('ttl is passed to the cache; without it the cache default applies'), async (t) => {
    const { cache, sets } = recordingSets(await target.create())
    const withTtl = cached({ cache, ttl: 300 })(async function withTtl() {
      return 1
    })
    const withoutTtl = cached({ cache })(async function withoutTtl() {
      return 2
    })
    await withTtl()
    await withoutTtl()
    // The write runs behind the call: wait for both to have started.
    await waitFor(() => sets.length === 2, 5000, 'both writes')
    t.deepEqual(sets, [['withTtl()', 1, 300], ['withoutTtl()', 2, undefined]])
    t.throws(() => cached({ cache, ttl: -1 }), { instanceOf: CacheTtlError, message: /ttl must not be negative, got -1/ })
  })

  test(title('cacheInvalidate removes the key after the function resolves (one key or several)'), async (t) => {
    const cache = await target.create()
    await cache.set('user:1', { name: 'old' })
    await cache.set('users:all', ['old'])
    await cache.set('user:2', { name: 'old' })
    const order: string[] = []
    const updateUser = cacheInvalidate({ cache, keyFn: (id: string) => `user:${id}` })(async function updateUser(id: string, data: object) {
      order.push(`write ${id}, cached: ${(await cache.has(`user:${id}`)) ? 'yes' : 'no'}`)
      return data !== undefined
    })
    const updateMany = cacheInvalidate({ cache, keyFn: (id: string) => [`user:${id}`, 'users:all'] })(async (id: string) => id)
    t.true(await updateUser('1', { name: 'new' }))
    t.deepEqual(order, ['write 1, cached: yes'], 'the key is still there while the write runs')
    t.false(await cache.has('user:1'))
    t.is(await updateMany('2'), '2')
    t.false(await cache.has('user:2'))
    t.false(await cache.has('users:all'))
  })

  test(title('cacheInvalidate does not invalidate when the function rejects'), async (t) => {
    const cache = await target.create()
    await cache.set('user:1', 'old')
    const failing = cacheInvalidate({ cache, keyFn: (id: string) => `user:${id}` })(async (id: string) => {
      throw new Error(`write failed for ${id}`)
    })
    await t.throwsAsync(failing('1'), { message: 'write failed for 1' })
    t.is(await cache.get('user:1'), 'old')
  })

  test(title('cached + cacheInvalidate pair (the seed get_user / update_user)'), async (t) => {
    const cache = await target.create()
    const db = new Map([['1', 'Ada']])
    let reads = 0
    const getUser = cached({ cache, keyFn: (id: string) => `user:${id}` })(async (id: string) => {
      reads++
      return db.get(id)
    })
    const updateUser = cacheInvalidate({ cache, keyFn: (id: string) => `user:${id}` })(async (id: string, name: string) => {
      db.set(id, name)
      return true
    })
    t.is(await getUser('1'), 'Ada')
    t.is(await getUser('1'), 'Ada')
    t.is(reads, 1)
    await updateUser('1', 'Grace')
    t.is(await getUser('1'), 'Grace')
    t.is(reads, 2)
  })

  for (const op of ['get', 'set'] as const) {
    for (const fault of ['throw', 'reject', 'hang'] as const) {
      test(title(`a cache whose ${op} ${fault === 'throw' ? 'throws' : fault === 'reject' ? 'rejects' : 'hangs'} never fails the call; onError hears of it`), async (t) => {
        const cache = faultyCache(await target.create(), op, fault)
        const failures: [unknown, CacheFailure][] = []
        let calls = 0
        const getUser = cached({ cache, timeoutMs: 50, onError: (error, failure) => failures.push([error, failure]) })(async function getUser(id: string) {
          calls++
          return `user ${id}`
        })
        t.is(await getUser('1'), 'user 1')
        t.is(await getUser('1'), 'user 1')
        t.is(calls, 2, 'nothing could be cached')
        // Only the broken operation is asserted: on a loaded machine the other one may also exceed the short bound.
        // A write's failure arrives after the call resolved (nobody waits for the write).
        const brokenOnes = () => failures.filter(([, failure]) => failure.op === op)
        await waitFor(() => brokenOnes().length >= 2, 5000, `two ${op} failures reported`)
        const broken = brokenOnes()
        t.is(broken.length, 2)
        const [error, failure] = broken[0]
        t.like(failure, { op, key: 'getUser("1")', function: 'getUser' })
        if (fault === 'hang') {
          t.true(error instanceof CacheUnavailableError)
          t.regex((error as Error).message, new RegExp(`did not answer ${op} within 50 ms`))
        } else {
          t.regex((error as Error).message, new RegExp(`${op} (exploded|rejected)`))
        }
      })
    }
  }

  for (const fault of ['throw', 'reject', 'hang'] as const) {
    test(title(`cacheInvalidate whose invalidate ${fault}s still resolves with the result`), async (t) => {
      const cache = faultyCache(await target.create(), 'invalidate', fault)
      const failures: CacheFailure[] = []
      const update = cacheInvalidate({ cache, timeoutMs: 50, keyFn: (id: string) => [`a:${id}`, `b:${id}`], onError: (_e, f) => failures.push(f) })(async (id: string) => `saved ${id}`)
      t.is(await update('1'), 'saved 1')
      t.deepEqual(
        failures.map((f) => [f.op, f.key]),
        [['invalidate', 'a:1'], ['invalidate', 'b:1']],
      )
    })
  }

  test(title('with no onError, cache failures give one process warning per decorated function'), async (t) => {
    const cache = faultyCache(await target.create(), 'get', 'reject')
    // A name unique to this target: other suites in this process warn too.
    const name = `quiet_${target.name.replace(/\W/g, '_')}`
    const warnings: Error[] = []
    const listener = (warning: Error) => {
      if ((warning as { code?: string }).code === 'ASTRA_CACHE_DECORATOR' && warning.message.includes(` ${name} `)) warnings.push(warning)
    }
    process.on('warning', listener)
    try {
      const quiet = cached({ cache })({ [name]: async (n: number) => n }[name])
      t.is(await quiet(1), 1)
      t.is(await quiet(2), 2)
      await new Promise((resolve) => setImmediate(resolve))
      t.is(warnings.length, 1)
      t.true(warnings[0].message.includes(`get on cache "${cache.name}" failed for ${name} (get rejected)`))
    } finally {
      process.off('warning', listener)
    }
  })

  test(title('an onError that throws does not fail the call'), async (t) => {
    const cache = faultyCache(await target.create(), 'get', 'throw')
    const f = cached({
      cache,
      onError: () => {
        throw new Error('handler bug')
      },
    })(async function f() {
      return 'fine'
    })
    t.is(await f(), 'fine')
  })
}
