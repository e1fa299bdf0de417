// Type-level checks (compiled by `npm run typecheck`, never run): what TieredCache infers
// from its tiers. Two tiers built inline used to infer TieredCache<undefined> (TypeScript
// took V from get's `V | undefined` in the contextual type), so no set compiled.
import { InMemoryLRUCache, type Cache } from '../../src'
import { RedisCache } from '../../src/redis'
import { TieredCache } from '../../src/tiered'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
interface User {
  id: string
  name: string
}

export async function inferred(users: Cache<User>, names: InMemoryLRUCache<string>): Promise<void> {
  // Inline tiers, no type argument: values of any type, as with an untyped InMemoryLRUCache.
  const untyped = new TieredCache({ l1: new InMemoryLRUCache({ maxsize: 100 }), l2: new RedisCache({ redisUrl: 'redis://127.0.0.1:6379' }) })
  const isUnknown: Equal<typeof untyped, TieredCache<unknown>> = true
  await untyped.set('user:1', { id: '1', name: 'Ada' })
  await untyped.set('n', 42)

  // Tiers declared with a type give it.
  const typed = new TieredCache({ l1: users, l2: new RedisCache<User>() })
  const isUser: Equal<typeof typed, TieredCache<User>> = true
  await typed.set('user:1', { id: '1', name: 'Ada' })
  // @ts-expect-error a number is not a User
  await typed.set('user:1', 42)
  const got: User | undefined = await typed.get('user:1')

  // A typed L1 types an inline L2; an inline L1 beside a typed L2 gives any value (V is
  // taken from l1 only, so that the inline tier does not widen it).
  const mixed = new TieredCache({ l1: users, l2: new RedisCache() })
  const isMixed: Equal<typeof mixed, TieredCache<User>> = true
  const reversed = new TieredCache({ l1: new InMemoryLRUCache(), l2: new RedisCache<User>() })
  const isReversed: Equal<typeof reversed, TieredCache<unknown>> = true

  // A type argument types inline tiers.
  const explicit = new TieredCache<User>({ l1: new InMemoryLRUCache(), l2: new RedisCache() })
  const isExplicit: Equal<typeof explicit, TieredCache<User>> = true
  // @ts-expect-error tiers of another value type
  new TieredCache<User>({ l1: names, l2: new RedisCache<User>() })
  // @ts-expect-error tiers of two value types
  new TieredCache({ l1: users, l2: names })
  void [isUnknown, isUser, got, isMixed, isReversed, isExplicit]
}
