/**
 * Real redis-server processes for tests: free loopback port, persistence off, stopped by pid.
 *
 *   import { redisServerAvailable, startRedis, startRedisCluster, redisTestsOrSkip } from './helpers/redis-server'
 *
 *   if (redisTestsOrSkip(test, 'my redis tests')) {
 *     let server: RedisServer
 *     test.before(async () => { server = await startRedis() })
 *     test.after.always(() => server?.stop())
 *     test('...', async (t) => { new RedisCache({ redisUrl: server.url }) ... })
 *   }
 *
 * A RedisServer can be paused (SIGSTOP: the port stays open but nothing answers), resumed
 * (SIGCONT), killed (SIGKILL) and restarted on the same port. Every server still running
 * when the test process exits is SIGKILLed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestFn } from 'ava'

export const REDIS_HOST = '127.0.0.1'

export interface RedisAvailability {
  available: boolean
  /** Why not, when unavailable. */
  reason?: string
  /** e.g. '7.0.15' */
  version?: string
}

let availability: RedisAvailability | undefined

/** Whether `redis-server` (and `redis-cli`) can run here. Cached. */
export function redisServerAvailable(): RedisAvailability {
  if (availability) return availability
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (server.error || server.status !== 0) {
    availability = { available: false, reason: 'redis-server is not installed (apt-get install -y redis-server)' }
    return availability
  }
  const version = /v=(\S+)/.exec(server.stdout)?.[1]
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' })
  if (cli.error || cli.status !== 0) {
    availability = { available: false, reason: 'redis-cli is not installed (apt-get install -y redis-tools)', version }
    return availability
  }
  availability = { available: true, version }
  return availability
}

/** True when CI=true: a missing capability must fail, not skip. */
export function inCI(): boolean {
  return /^(1|true|yes)$/i.test(process.env.CI ?? '')
}

/**
 * Call at the top of a Redis test file. Returns true when the tests can run. Otherwise it
 * registers one skipped test whose title gives the reason (so the run reports it as skipped,
 * never as passed) or, under CI=true, one failing test, and returns false.
 */
export function redisTestsOrSkip(test: TestFn, what: string, capability: RedisAvailability = redisServerAvailable()): boolean {
  if (capability.available) return true
  if (inCI()) {
    test(`${what}: required under CI=true`, (t) => t.fail(`${what} cannot run: ${capability.reason}`))
  } else {
    test.skip(`${what} — skipped: ${capability.reason}`, () => {})
  }
  return false
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
})

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, REDIS_HOST, () => server.close(() => resolve(true)))
  })
}

/**
 * A free loopback port; `alsoFree` offsets (e.g. 10000 for the cluster bus) must be free too.
 * Chosen below Linux's ephemeral range (32768 and up): a server killed and restarted on its
 * port must find it free, and the kernel hands ephemeral ports to every outgoing connection
 * and to listeners on port 0 (the fault proxies) meanwhile.
 */
export async function freePort(alsoFree: number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 22000)
    if (!(await portIsFree(port))) continue
    let ok = true
    for (const offset of alsoFree) if (!(await portIsFree(port + offset))) ok = false
    if (ok) return port
  }
  throw new Error('no free port found')
}

/** Resolves with the first reply line to PING (`+PONG`, or `-NOAUTH...` when a password is set), or rejects. */
function pingOnce(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: REDIS_HOST })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('ping timeout'))
    }, timeoutMs)
    let data = ''
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      data += chunk.toString()
      if (data.includes('\r\n')) {
        clearTimeout(timer)
        socket.destroy()
        resolve(data.split('\r\n')[0])
      }
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

export interface StartRedisOptions {
  /** Default: a free port. */
  port?: number
  /** `--requirepass` for the default user. */
  password?: string
  /** Extra redis-server arguments, e.g. ['--user', 'app', 'on', '>pw', '~*', '+@all']. */
  args?: string[]
  /** How long to wait for PING, ms. Default 10000. */
  startTimeoutMs?: number
}

export class RedisServer {
  readonly host = REDIS_HOST
  private child: ChildProcess | undefined
  private output = ''
  /** The server's data directory (RDB/AOF files), removed by stop(). */
  readonly dir: string

  private constructor(
    readonly port: number,
    private readonly args: string[],
    private readonly startTimeoutMs: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'astra-redis-'))
  }

  static async start(options: StartRedisOptions = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort())
    const args = [...(options.password ? ['--requirepass', options.password] : []), ...(options.args ?? [])]
    const server = new RedisServer(port, args, options.startTimeoutMs ?? 10_000)
    await server.spawn()
    return server
  }

  /** redis://127.0.0.1:<port> (no credentials). */
  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** What redis-server printed (for failure messages). */
  get log(): string {
    return this.output
  }

  private async spawn(): Promise<void> {
    const argv = [
      '--port', String(this.port), '--bind', REDIS_HOST, '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--protected-mode', 'no', ...this.args,
    ]
    const child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.output = ''
    running.add(child)
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-8000)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    child.once('exit', () => running.delete(child))
    const deadline = Date.now() + this.startTimeoutMs
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`redis-server exited at start (code ${child.exitCode}): ${this.output.trim().split('\n').slice(-5).join('\n')}`)
      }
      try {
        await pingOnce(this.port, 500)
        return
      } catch {
        await sleep(25)
      }
    }
    child.kill('SIGKILL')
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${this.startTimeoutMs} ms: ${this.output}`)
  }

  /** SIGSTOP: the process hangs; connections stay open but nothing is answered. */
  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.child?.kill('SIGCONT')
  }

  /** SIGKILL (works on a paused server too) and wait for the exit. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL')
  }

  /** Graceful SIGTERM (resumes a paused server first). Removes the data directory. */
  async stop(): Promise<void> {
    if (this.isRunning) {
      this.resume()
      await this.signalAndWait('SIGTERM', 3000)
    }
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Starts again on the same port with the same arguments (after kill() or stop()). */
  async restart(): Promise<void> {
    if (this.isRunning) await this.kill()
    await this.spawn()
  }

  /** Runs redis-cli against this server (e.g. ['CONFIG', 'GET', 'maxmemory']); returns stdout. */
  cli(args: string[], password?: string): string {
    const auth = password ? ['-a', password, '--no-auth-warning'] : []
    const out = spawnSync('redis-cli', ['-h', this.host, '-p', String(this.port), ...auth, ...args], { encoding: 'utf8' })
    if (out.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${out.stderr}`)
    return out.stdout.trim()
  }

  private async signalAndWait(signal: NodeJS.Signals, timeoutMs = 5000): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = sleep(timeoutMs).then(() => 'timeout' as const)
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL')
      await exited
    }
  }
}

/** Starts one redis-server (see StartRedisOptions). */
export function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  return RedisServer.start(options)
}

export interface RedisClusterHandle {
  servers: RedisServer[]
  /** [{ host, port }] for ioredis' Cluster constructor. */
  nodes: { host: string; port: number }[]
  stop(): Promise<void>
}

/**
 * A local Redis Cluster of `masters` masters and no replicas (cluster bus on port + 10000),
 * created with `redis-cli --cluster create` and waited on until cluster_state:ok everywhere.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const servers: RedisServer[] = []
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort([10000])
      servers.push(await RedisServer.start({ port, args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'] }))
    }
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...servers.map((s) => `${s.host}:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    )
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`)
    const deadline = Date.now() + 20_000
    for (const server of servers) {
      while (!/cluster_state:ok/.test(server.cli(['CLUSTER', 'INFO']))) {
        if (Date.now() > deadline) throw new Error(`cluster did not reach cluster_state:ok on port ${server.port}`)
        await sleep(100)
      }
    }
    return {
      servers,
      nodes: servers.map((s) => ({ host: s.host, port: s.port })),
      stop: async () => {
        await Promise.all(servers.map((s) => s.stop()))
      },
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()))
    throw err
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
