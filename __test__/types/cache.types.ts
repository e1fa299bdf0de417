// Type-level checks (compiled by `npm run typecheck`, never run): code typed as Cache, such as
// what createCache() returns, passes getOrSet's options without a cast.
import { createCache, type Cache, type GetOrSetOptions } from '../../src'

export async function typed(cache: Cache<string> = createCache() as Cache<string>): Promise<string> {
  const options: GetOrSetOptions = { ttl: 10, staleTtl: 30, grace: 60 }
  await cache.getOrSet('k', async () => 'v', 5)
  return cache.getOrSet('k', () => 'v', options)
}
