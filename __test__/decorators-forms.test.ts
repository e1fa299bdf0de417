/**
 * The three ways to apply cached()/cacheInvalidate() — wrapper, TC39 standard decorator
 * (compiled here by tsx/esbuild as TypeScript 5 does by default), legacy decorators (see
 * decorators-legacy.test.ts) — plus option checking and the process default cache.
 */
import test from 'ava'
import { setDefaultCache } from '../src/config'
import { cacheInvalidate, cached } from '../src/decorators'
import { CacheOptionError, CacheTtlError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'

const newCache = () => new InMemoryLRUCache({ engine: 'js' })

test('TC39 decorator: caches per Class.method + arguments and keeps this', async (t) => {
  const cache = newCache()
  let reads = 0
  class UserService {
    constructor(private readonly db: Map<string, string>) {}

    @cached({ cache })
    async getUser(id: string): Promise<string | undefined> {
      reads++
      return this.db.get(id)
    }

    @cacheInvalidate({ cache, keyFn: (id: string) => `UserService.getUser(${JSON.stringify(id)})` })
    async updateUser(id: string, name: string): Promise<boolean> {
      this.db.set(id, name)
      return true
    }
  }
  const service = new UserService(new Map([['1', 'Ada']]))
  t.is(await service.getUser('1'), 'Ada')
  t.is(await service.getUser('1'), 'Ada')
  t.is(reads, 1)
  t.true(await cache.has('UserService.getUser("1")'))
  t.true(await service.updateUser('1', 'Grace'))
  t.is(await service.getUser('1'), 'Grace')
  t.is(reads, 2)
})

test('TC39 decorator: a subclass instance keys as the class that defines the method', async (t) => {
  const cache = newCache()
  class Base {
    @cached({ cache })
    async load(n: number): Promise<number> {
      return n * 10
    }
  }
  class Derived extends Base {}
  t.is(await new Derived().load(1), 10)
  t.is(await new Base().load(2), 20)
  t.true(await cache.has('Base.load(1)'))
  t.true(await cache.has('Base.load(2)'))
})

test('TC39 decorator: static, symbol-named and private methods', async (t) => {
  const cache = newCache()
  const loadSymbol = Symbol('load')
  class Catalog {
    @cached({ cache })
    static async count(kind: string): Promise<number> {
      return kind.length
    }

    @cached({ cache })
    async [loadSymbol](): Promise<string> {
      return 'by symbol'
    }

    @cached({ cache })
    async #secret(n: number): Promise<number> {
      return n + 1
    }

    readSecret(n: number): Promise<number> {
      return this.#secret(n)
    }
  }
  t.is(await Catalog.count('books'), 5)
  t.is(await new Catalog()[loadSymbol](), 'by symbol')
  t.is(await new Catalog().readSecret(1), 2)
  t.true(await cache.has('Catalog.count("books")'))
  t.true(await cache.has('Catalog.Symbol(load)()'))
  t.true(await cache.has('Catalog.#secret(1)'))
})

test('TC39 decorator on something other than a method is refused at class definition', (t) => {
  const cache = newCache()
  const error = t.throws(
    () => {
      class Bad {
        // @ts-expect-error a field is not a method: rejected by the types as well
        @cached({ cache }) value = 1
      }
      return Bad
    },
    { instanceOf: CacheOptionError },
  )
  t.regex(error!.message, /cached\(\) decorates methods only, not a field \(value\)/)
})

test('wrapper: an anonymous function needs a keyFn or a prefix', async (t) => {
  const cache = newCache()
  t.throws(() => cached({ cache })(async (id: string) => id), { instanceOf: CacheOptionError, message: /anonymous function needs a keyFn or a prefix/ })
  const withPrefix = cached({ cache, prefix: 'anon' })(async (id: string) => id)
  t.is(await withPrefix('1'), '1')
  t.true(await cache.has('anon:("1")'))
  t.throws(() => cached({ cache })('not a function' as never), { instanceOf: CacheOptionError, message: /must wrap a function or decorate a method, got "not a function"/ })
})

test('options are checked when the decorator is created', (t) => {
  const cache = newCache()
  t.throws(() => cached({ cache, keyfn: () => 'x' } as never), { instanceOf: CacheOptionError, message: /unknown cached option "keyfn"/ })
  t.throws(() => cached({ cache: {} as never }), { instanceOf: CacheOptionError, message: /cached cache must be a Cache, got an object/ })
  t.throws(() => cached({ cache, ttl: Number.NaN }), { instanceOf: CacheTtlError })
  t.throws(() => cached({ cache, prefix: 7 as never }), { instanceOf: CacheOptionError, message: /prefix must be a string, got 7 \(number\)/ })
  t.throws(() => cached({ cache, timeoutMs: 0 }), { instanceOf: CacheOptionError, message: /timeoutMs must be a positive number/ })
  t.throws(() => cached({ cache, keyFn: 'user' as never }), { instanceOf: CacheOptionError, message: /keyFn must be a function, got "user"/ })
  t.throws(() => cacheInvalidate({ cache } as never), { instanceOf: CacheOptionError, message: /cacheInvalidate keyFn must be a function, got undefined/ })
  t.throws(() => cached(null as never), { instanceOf: CacheOptionError, message: /cached options must be an object, got null/ })
  // Habits from other libraries: the cache, or the function, where the options object belongs.
  t.throws(() => cached(cache as never), { instanceOf: CacheOptionError, message: 'cached() takes one options object, got a cache (InMemoryLRUCache): pass it as cached({ cache, ... })' })
  t.throws(() => cacheInvalidate(cache as never), { instanceOf: CacheOptionError, message: 'cacheInvalidate() takes one options object, got a cache (InMemoryLRUCache): pass it as cacheInvalidate({ cache, ... })' })
  t.throws(() => cached((async () => 1) as never), { instanceOf: CacheOptionError, message: 'cached() takes an options object and returns the wrapper, got a function: write cached({ ... })(fn)' })
})

test.serial('with no cache named, the process default cache is looked up at each call', async (t) => {
  const first = newCache()
  const second = newCache()
  let calls = 0
  // Decorated before any default cache exists.
  const getUser = cached({ keyFn: (id: string) => `user:${id}` })(async (id: string) => {
    calls++
    return `user ${id}`
  })
  class Writer {
    @cacheInvalidate({ keyFn: (id: string) => `user:${id}` })
    async update(id: string): Promise<string> {
      return id
    }
  }
  try {
    setDefaultCache(first)
    await getUser('1')
    t.is(await first.get('user:1'), 'user 1')
    setDefaultCache(second)
    await getUser('1')
    t.is(calls, 2, 'the new default cache was empty')
    t.is(await second.get('user:1'), 'user 1')
    await new Writer().update('1')
    t.false(await second.has('user:1'))
    t.true(await first.has('user:1'), 'only the current default cache is touched')
  } finally {
    setDefaultCache(undefined)
  }
})
