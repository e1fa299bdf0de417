// Type-level checks (compiled by `npm run typecheck`, never run): code typed as Cache, such as
// what createCache() returns, passes getOrSet's options without a cast.
import { createCache, type Cache, type GetOrSetOptions, type LoaderContext, type LoaderTimeouts } from '../../src'

export async function typed(cache: Cache<string> = createCache() as Cache<string>): Promise<string> {
  const options: GetOrSetOptions = { ttl: 10, staleTtl: 30, grace: 60 }
  await cache.getOrSet('k', async () => 'v', 5)
  return cache.getOrSet('k', () => 'v', options)
}

// A loader may take the context or nothing; setTtl takes a TTL, timeouts take durations.
export async function loaders(cache: Cache<{ id: string }>): Promise<void> {
  const context: (ctx: LoaderContext<{ id: string }>) => Promise<{ id: string }> = async ({ signal, stale, setTtl }) => {
    setTtl('5m')
    signal.throwIfAborted()
    return stale ?? { id: 'new' }
  }
  const timeouts: LoaderTimeouts = { soft: 100, hard: '2s' }
  await cache.getOrSet('k', context, { ttl: 10, grace: 60, timeouts })
  await cache.getOrSet('k', () => ({ id: 'plain' }))
  // @ts-expect-error setTtl takes seconds or a duration string
  await cache.getOrSet('k', ({ setTtl }) => (setTtl(true), { id: 'x' }))
  // @ts-expect-error the stale value may be absent
  await cache.getOrSet('k', ({ stale }) => ({ id: stale.id }))
}
