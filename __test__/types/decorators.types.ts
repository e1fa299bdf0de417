/**
 * Type-level tests for cached()/cacheInvalidate(): this file must typecheck
 * (`npx tsc -p tsconfig.json --noEmit`), and every `@ts-expect-error` line proves a wrong
 * use is rejected (tsc fails if the line below it does NOT error). Never executed.
 */
import { cacheInvalidate, cached, loaderContext } from '../../src/decorators'
import { InMemoryLRUCache } from '../../src/memory/memory-cache'

interface User {
  id: string
  name: string
}
declare function fetchUser(id: string): Promise<User>
const cache = new InMemoryLRUCache()

// Wrapper: parameters and return type are inferred; the result is always a Promise.
const getUser = cached({ cache, keyFn: (id: string) => `user:${id}` })(async function getUser(id: string) {
  return fetchUser(id)
})
const user: Promise<User> = getUser('42')
void user
// @ts-expect-error the wrapped function keeps its parameter types
void getUser(42)

// A sync function becomes async.
const double = cached({ cache })(function double(n: number) {
  return n * 2
})
const doubled: Promise<number> = double(2)
void doubled
// @ts-expect-error the result is a Promise, not a number
const notNumber: number = double(2)
void notNumber

// keyFn may take fewer parameters than the function (like the seed's update_user).
const updateUser = cacheInvalidate({ cache, keyFn: (id: string) => [`user:${id}`, 'users:all'] })(async function updateUser(id: string, data: Partial<User>) {
  return data !== undefined && id !== ''
})
const updated: Promise<boolean> = updateUser('42', { name: 'x' })
void updated

// @ts-expect-error keyFn's parameter type does not match the function's
cached({ cache, keyFn: (id: number) => `user:${id}` })(async function wrong(id: string) {
  return id
})

// @ts-expect-error keyFn needs more arguments than the function takes
cached({ cache, keyFn: (a: string, b: string) => a + b })(async function oneArg(a: string) {
  return a
})

// @ts-expect-error keyFn must return a string
cached({ cache, keyFn: (id: string) => id.length })

// @ts-expect-error cacheInvalidate's keyFn must return a string or an array of strings
cacheInvalidate({ cache, keyFn: (id: string) => [id.length] })

// @ts-expect-error cacheInvalidate needs a keyFn
cacheInvalidate({ cache })

// TC39 standard decorators (TypeScript 5 default).
class UserService {
  @cached({ cache, keyFn: (id: string) => `user:${id}`, ttl: 300 })
  async getUser(id: string): Promise<User> {
    return fetchUser(id)
  }

  @cacheInvalidate({ cache, keyFn: (id: string) => `user:${id}` })
  async updateUser(id: string, data: Partial<User>): Promise<boolean> {
    return data !== undefined && id !== ''
  }

  @cached()
  async list(): Promise<User[]> {
    return []
  }

  // @ts-expect-error keyFn's parameter type does not match the method's
  @cached({ cache, keyFn: (id: number) => `user:${id}` })
  async wrongKey(id: string): Promise<string> {
    return id
  }

  // @ts-expect-error a decorated method must be declared async (it returns a Promise once decorated)
  @cached({ cache })
  syncMethod(): number {
    return 1
  }
}
const service = new UserService()
const fromMethod: Promise<User> = service.getUser('42')
void fromMethod

// timeouts are durations; loaderContext() may be undefined (outside a load) and is typed by its argument.
export const withContext = cached({ timeouts: { soft: '100ms', hard: 2_000 }, keyFn: () => 'k' })(async function withContext(): Promise<User> {
  const context = loaderContext<User>()
  // @ts-expect-error possibly undefined outside a load
  context.setTtl(5)
  context?.setTtl('5m')
  return context?.stale ?? { id: '1', name: 'Ada' }
})
// @ts-expect-error timeouts has soft and hard only
cached({ timeouts: { medium: 5 } })
