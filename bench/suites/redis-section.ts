/**
 * Redis: bench/redis.ts (RedisCache vs raw ioredis) measures; this file only provides a
 * throwaway redis-server on a free 127.0.0.1 port (no persistence) and stops it by pid.
 * Skipped, with the reason printed, when either is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import * as net from 'node:net'
import type { BenchConfig } from '../config'
import { findExportedFunction, toSections } from '../optional-module'
import type { Section } from '../table'

const TITLE = 'Redis: RedisCache vs raw ioredis'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.setTimeout(300)
    s.once('connect', () => s.write('PING\r\n'))
    s.once('data', (d) => {
      s.destroy()
      resolve(d.toString().startsWith('+PONG'))
    })
    s.once('error', () => resolve(false))
    s.once('timeout', () => {
      s.destroy()
      resolve(false)
    })
  })
}

async function startRedis(): Promise<{ proc: ChildProcess; port: number } | { reason: string }> {
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (which.error || which.status !== 0) return { reason: 'redis-server is not on PATH (apt-get install redis-server)' }
  const port = await freePort()
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 50; i++) {
    if (await ping(port)) return { proc, port }
    if (proc.exitCode !== null) return { reason: `redis-server exited with code ${proc.exitCode}` }
    await new Promise((r) => setTimeout(r, 100))
  }
  proc.kill('SIGTERM')
  return { reason: `redis-server did not answer PING on port ${port} within 5 s` }
}

export async function runRedisSection(cfg: BenchConfig, log: (s: string) => void): Promise<{ section: Section; raw?: unknown }> {
  const skipped = (why: string) => {
    log(`  skipped: ${why}`)
    return { section: { id: 'redis', title: TITLE, tables: [], notes: [`skipped: ${why}`] } }
  }
  const found = findExportedFunction('redis.ts', ['runRedisBench', 'redisSection', 'redisBench'])
  if (!found.fn) return skipped(found.reason!)
  const server = await startRedis()
  if ('reason' in server) return skipped(server.reason)
  try {
    log(`  redis-server pid ${server.proc.pid} on 127.0.0.1:${server.port}; calling ${found.name}()`)
    const raw = await found.fn({ quick: cfg.quick, redisUrl: `redis://127.0.0.1:${server.port}`, port: server.port })
    const [section, ...more] = toSections('redis', TITLE, raw)
    for (const m of more) section.tables.push(...m.tables)
    return { section, raw }
  } catch (e) {
    return skipped(`${found.name}() failed: ${e instanceof Error ? e.message : String(e)}`)
  } finally {
    server.proc.kill('SIGTERM')
  }
}
