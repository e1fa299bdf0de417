import { InMemoryLRUCache } from '../src/memory/memory-cache'
const cache = new InMemoryLRUCache<unknown>({ engine: (process.env.E as 'js') ?? 'js', defaultTtl: 0 })
const user = { id: '42' }
const load = async () => user
async function main() {
  await cache.getOrSet('k', load)
  for (const what of ['get', 'getOrSet', 'getOrSet swr']) {
    const t0 = performance.now()
    const N = 2_000_000
    if (what === 'get') for (let i = 0; i < N; i++) await cache.get('k')
    else if (what === 'getOrSet') for (let i = 0; i < N; i++) await cache.getOrSet('k', load)
    else { await cache.getOrSet('s', load, { ttl: 60, staleTtl: 10 }); for (let i = 0; i < N; i++) await cache.getOrSet('s', load, { ttl: 60, staleTtl: 10 }) }
    console.log(what, ((performance.now() - t0) * 1e6 / N).toFixed(0), 'ns')
  }
}
main()
