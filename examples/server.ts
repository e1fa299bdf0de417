/**
 * A small HTTP service with a cached endpoint and a Prometheus /metrics endpoint.
 *
 *   PORT=8080 node --import=tsx examples/server.ts     (or: node --import=tsx examples/server.ts 8080)
 *   curl localhost:8080/users/42 ; curl localhost:8080/metrics
 *
 * PORT 0 picks a free port. The line "listening on http://HOST:PORT" is printed once ready.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Registry } from 'prom-client'
import { InMemoryLRUCache, cached } from '../src'
import { PrometheusSink } from '../src/metrics'

interface User {
  id: string
  name: string
}

/** Stands in for a database: slow enough that caching it is worth it. */
const database = {
  async fetchUser(id: string): Promise<User | null> {
    await sleep(20)
    const n = Number(id)
    return Number.isInteger(n) && n >= 1 && n <= 1000 ? { id, name: `user ${id}` } : null
  },
}

const registry = new Registry()
// Every op is timed here so the histogram fills on a demo's traffic; in production a memory
// cache wants a small rate (the default 0.01), since timing costs as much as a hit.
const sink = new PrometheusSink({ registry, latencySampleRate: 1 })
const cache = new InMemoryLRUCache<User | null>({ name: 'users', maxsize: 10_000, defaultTtl: 60, metricsSink: sink })

/** A cached lookup: one database call per id and TTL; concurrent misses share one call. */
const getUser = cached({ cache, keyFn: (id: string) => `user:${id}` })(async function getUser(id: string) {
  return database.fetchUser(id)
})

function send(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (req.method !== 'GET') return send(res, 405, JSON.stringify({ error: 'method not allowed' }))
  if (path === '/metrics') return send(res, 200, await registry.metrics(), registry.contentType)
  const match = /^\/users\/([^/]+)$/.exec(path)
  if (match) {
    const user = await getUser(decodeURIComponent(match[1]))
    return user ? send(res, 200, JSON.stringify(user)) : send(res, 404, JSON.stringify({ error: 'no such user' }))
  }
  send(res, 404, JSON.stringify({ error: 'not found' }))
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    console.error(err)
    if (!res.headersSent) send(res, 500, JSON.stringify({ error: 'internal error' }))
  })
})

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(process.argv[2] ?? process.env.PORT)}`)
  process.exit(2)
}

server.listen(port, host, () => {
  const address = server.address()
  const actual = typeof address === 'object' && address !== null ? address.port : port
  console.log(`listening on http://${host}:${actual}`)
})

async function shutdown(): Promise<void> {
  server.close()
  server.closeIdleConnections()
  await cache.close()
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err)
        process.exit(1)
      },
    )
  })
}
