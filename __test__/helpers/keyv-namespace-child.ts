/**
 * A KeyvAstraStore over RedisCache in its own Node process, for the test where several processes
 * start writing to fresh namespaces at the same moment:
 *
 *   node --import=tsx __test__/helpers/keyv-namespace-child.ts <redisUrl> <keyPrefix> <id>
 *   stdout: {"ready":true} once connected
 *   stdin : {"op":"write","namespaces":["n1"],"count":50}  -> sets n1:<id>:0..49 without awaiting,
 *           each followed by a get of the same key; replies {"op":"write","wrongReads":[...]}
 *   stdin : {"op":"read","namespaces":["n1"],"keys":["n1:a:0",...]} -> replies {"op":"read","missing":[...]}
 *   stdin : {"op":"close"}
 */
import { createInterface } from 'node:readline'
import { KeyvAstraStore } from '../../src/keyv/index'
import { RedisCache } from '../../src/redis/redis-cache'

const [redisUrl, keyPrefix, id] = process.argv.slice(2)
const cache = new RedisCache<unknown>({ redisUrl, keyPrefix, commandTimeoutMs: 5000 })
cache.on('error', (err) => process.stderr.write(`child ${id}: ${err.message}\n`))

const send = (message: object) => process.stdout.write(JSON.stringify(message) + '\n')

function store(namespace: string): KeyvAstraStore {
  const s = new KeyvAstraStore(cache)
  s.namespace = namespace
  return s
}

interface Command {
  op: 'write' | 'read' | 'close'
  namespaces: string[]
  count?: number
  keys?: string[]
}

async function write(namespaces: string[], count: number): Promise<string[]> {
  const reads: Promise<string | undefined>[] = []
  const writes: Promise<unknown>[] = []
  for (const namespace of namespaces) {
    const s = store(namespace)
    for (let i = 0; i < count; i++) {
      const key = `${namespace}:${id}:${i}`
      writes.push(s.set(key, `v${i}`))
      reads.push(s.get(key).then((value) => (value === `v${i}` ? undefined : `${key}=${String(value)}`)))
    }
  }
  await Promise.all(writes)
  return (await Promise.all(reads)).filter((r): r is string => r !== undefined)
}

async function read(namespaces: string[], keys: string[]): Promise<string[]> {
  const missing: string[] = []
  for (const namespace of namespaces) {
    const mine = keys.filter((k) => k.startsWith(`${namespace}:`))
    const values = await store(namespace).getMany(mine)
    values.forEach((value, i) => {
      if (value === undefined) missing.push(mine[i])
    })
  }
  return missing
}

const lines = createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  const command = JSON.parse(line) as Command
  if (command.op === 'write') send({ op: 'write', wrongReads: await write(command.namespaces, command.count ?? 0) })
  else if (command.op === 'read') send({ op: 'read', missing: await read(command.namespaces, command.keys ?? []) })
  else {
    await cache.close()
    lines.close()
  }
})

cache.get('connect').then(() => send({ ready: true }))
