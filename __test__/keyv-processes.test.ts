/**
 * Several Node processes start writing to the same fresh Keyv namespaces on one real Redis at
 * the same moment: they agree on one generation (created with SET NX), so every write of every
 * process is readable by all of them afterwards, and each process reads its own writes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import test from 'ava'
import { redisTestsOrSkip, startRedis, type RedisServer } from './helpers/redis-server'

const PROCESSES = 3
const NAMESPACES = 8
const WRITES = 25

class Child {
  private readonly replies: ((message: Record<string, unknown>) => void)[] = []
  readonly ready: Promise<void>

  constructor(readonly proc: ChildProcess) {
    let markReady!: () => void
    this.ready = new Promise((resolve) => (markReady = resolve))
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.ready) markReady()
      else this.replies.shift()?.(message)
    })
  }

  send(command: object): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.replies.push(resolve)
      this.proc.stdin!.write(JSON.stringify(command) + '\n')
    })
  }
}

if (redisTestsOrSkip(test, 'Keyv namespaces created by several processes at once')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(() => server?.stop())

  test('processes creating the same namespaces at once lose no write', async (t) => {
    const keyPrefix = `keyv-procs:${process.pid}:`
    const ids = Array.from({ length: PROCESSES }, (_, i) => `p${i}`)
    const children = ids.map(
      (id) => new Child(spawn(process.execPath, ['--import=tsx', join(__dirname, 'helpers', 'keyv-namespace-child.ts'), server.url, keyPrefix, id], { stdio: ['pipe', 'pipe', 'inherit'] })),
    )
    t.teardown(() => children.forEach((c) => c.proc.kill()))
    await Promise.all(children.map((c) => c.ready))

    const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `shared${i}`)
    // The same instant for every process: one write each, sent in one loop.
    const writes = await Promise.all(children.map((c) => c.send({ op: 'write', namespaces, count: WRITES })))
    for (const [i, reply] of writes.entries()) t.deepEqual(reply.wrongReads, [], `${ids[i]} reads its own writes`)

    const keys = namespaces.flatMap((ns) => ids.flatMap((id) => Array.from({ length: WRITES }, (_, i) => `${ns}:${id}:${i}`)))
    const reads = await Promise.all(children.map((c) => c.send({ op: 'read', namespaces, keys })))
    for (const [i, reply] of reads.entries()) t.deepEqual(reply.missing, [], `${ids[i]} reads every process's writes`)

    for (const ns of namespaces) {
      t.regex(server.cli(['GET', `${keyPrefix}${ns}:~generation`]), /^"[\w-]+"$/, `${ns} has one generation`)
    }
    await Promise.all(children.map((c) => c.proc.stdin!.write(JSON.stringify({ op: 'close' }) + '\n')))
  })
}
