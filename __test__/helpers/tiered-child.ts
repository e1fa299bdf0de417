/**
 * A TieredCache in its own Node process, driven over stdin/stdout (one JSON object per line),
 * for the two-process invalidation test:
 *
 *   node --import=tsx __test__/helpers/tiered-child.ts <redisUrl> <keyPrefix>
 *   stdin : {"id":1,"op":"set","key":"k","value":"v"}   ops: get set invalidate clear peekL1 tierStats close
 *   stdout: {"id":1,"result":...} or {"id":1,"error":"..."}; first line {"ready":true}
 */
import { createInterface } from 'node:readline'
import { InMemoryLRUCache } from '../../src/memory/memory-cache'
import { RedisCache } from '../../src/redis/redis-cache'
import { TieredCache } from '../../src/tiered/tiered-cache'

const [redisUrl, keyPrefix] = process.argv.slice(2)
const l2 = new RedisCache<unknown>({ redisUrl, keyPrefix, defaultTtl: 60, commandTimeoutMs: 5000 })
const cache = new TieredCache<unknown>({ l1: new InMemoryLRUCache<unknown>({ maxsize: 1000, engine: 'js' }), l2, redisUrl, l1Ttl: 60 })
cache.on('error', () => {})
l2.on('error', () => {})

interface Command {
  id: number
  op: string
  key?: string
  value?: unknown
}

const send = (message: object) => process.stdout.write(JSON.stringify(message) + '\n')

async function run(command: Command): Promise<unknown> {
  const key = command.key ?? ''
  switch (command.op) {
    case 'get':
      return cache.get(key)
    case 'set':
      return cache.set(key, command.value)
    case 'invalidate':
      return cache.invalidate(key)
    case 'clear':
      return cache.clear()
    case 'peekL1':
      return cache.l1.get(key)
    case 'tierStats':
      return cache.tierStats()
    case 'close':
      await cache.close()
      setImmediate(() => process.exit(0))
      return true
    default:
      throw new Error(`unknown op ${command.op}`)
  }
}

// Ready once the subscription is live (the first resync), so no message is missed by the test.
cache.once('resync', () => send({ ready: true }))

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as Command
  run(command).then(
    (result) => send({ id: command.id, result: result === undefined ? null : result, undefined: result === undefined }),
    (err: Error) => send({ id: command.id, error: err.message }),
  )
})
