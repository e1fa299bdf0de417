/**
 * A TieredCache holds one memory cache: its L1. A RedisCache used as its L2 keeps no memory
 * fallback of its own (the L1 serves while Redis is away); the same RedisCache alone keeps one.
 * Redis is unreachable here (nothing listens on the port): no server needed.
 */
import test from 'ava'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { TieredCache } from '../src/tiered/tiered-cache'
import { freePort } from './helpers/redis-server'

test('a RedisCache L2 keeps no memory fallback inside a TieredCache (its L1 serves); alone it keeps one', async (t) => {
  const url = `redis://127.0.0.1:${await freePort()}`
  const alone = new RedisCache<string>({ redisUrl: url, keyPrefix: 'alone:', commandTimeoutMs: 200 })
  const l2 = new RedisCache<string>({ redisUrl: url, keyPrefix: 'tier:', commandTimeoutMs: 200 })
  const l1 = new InMemoryLRUCache<string>({ engine: 'js' })
  for (const c of [alone, l2]) c.on('error', () => {})
  const tiered = new TieredCache<string>({ l1, l2, bus: false })
  tiered.on('error', () => {})
  t.teardown(() => Promise.all([alone.close(), tiered.close()]))

  await alone.set('k', 'v')
  t.is(await alone.get('k'), 'v', 'alone: its own fallback serves the value Redis did not take')

  await tiered.set('k', 'v')
  t.is(await l2.get('k'), undefined, 'the L2 kept no copy of its own')
  t.is(await l1.get('k'), 'v', 'the L1 holds it')
  t.is(await tiered.get('k'), 'v', 'and serves it while Redis is away')
})

test('a fallback you gave the L2 is kept inside a TieredCache', async (t) => {
  const url = `redis://127.0.0.1:${await freePort()}`
  const fallback = new InMemoryLRUCache<string>({ engine: 'js' })
  const l2 = new RedisCache<string>({ redisUrl: url, keyPrefix: 'given:', commandTimeoutMs: 200, fallback })
  l2.on('error', () => {})
  const tiered = new TieredCache<string>({ l1: new InMemoryLRUCache<string>({ engine: 'js' }), l2, bus: false })
  tiered.on('error', () => {})
  t.teardown(async () => {
    await tiered.close()
    await fallback.close()
  })
  await tiered.set('k', 'v')
  t.is(await l2.get('k'), 'v', 'served by the fallback you passed')
})
