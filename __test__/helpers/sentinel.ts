/**
 * A real Redis Sentinel deployment for tests, on free loopback ports: one master, one replica
 * and three sentinels (`redis-server <conf> --sentinel`, from the same package as redis-server),
 * with short detection and failover times so a failover takes seconds.
 *
 *   const setup = await startSentinelSetup()
 *   const cache = new RedisCache({ redisUrl: setup.url })   // redis+sentinel://127.0.0.1:p1,.../mymaster
 *   await setup.master.kill()
 *   const promoted = await setup.waitForMaster(setup.replica.port)
 *   await setup.stop()
 *
 * Starting waits until every sentinel monitors the master, sees the replica and knows the two
 * other sentinels (otherwise a failover could not reach its majority).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, REDIS_HOST, RedisServer, sleep } from './redis-server'

export interface SentinelSetupOptions {
  /** Master name. Default 'mymaster'. */
  name?: string
  /** ms without a reply before a sentinel sees the master as down. Default 1000. */
  downAfterMs?: number
  /** Sentinel failover-timeout in ms. Default 3000. */
  failoverTimeoutMs?: number
  /** How long to wait for the deployment to settle, ms. Default 30000. */
  startTimeoutMs?: number
}

/** One sentinel process. */
export class SentinelProcess {
  readonly host = REDIS_HOST
  private child: ChildProcess | undefined
  private output = ''

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  start(config: string): void {
    const file = join(this.dir, 'sentinel.conf')
    writeFileSync(file, config) // sentinel rewrites its config file, so it gets a writable one of its own
    const child = spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-8000))
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    process.once('exit', () => child.kill('SIGKILL'))
  }

  get log(): string {
    return this.output
  }

  /** redis-cli against this sentinel; stdout, or '' when it does not answer. */
  cli(args: string[]): string {
    const out = spawnSync('redis-cli', ['-h', this.host, '-p', String(this.port), ...args], { encoding: 'utf8', timeout: 5000 })
    return out.status === 0 ? out.stdout.trim() : ''
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }
}

export interface SentinelSetup {
  name: string
  master: RedisServer
  replica: RedisServer
  sentinels: SentinelProcess[]
  /** redis+sentinel://127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>/<name> */
  url: string
  /** The master's port as the sentinels report it now (undefined when none answers). */
  masterPort(): number | undefined
  /** Waits until every sentinel reports the master on `port`. */
  waitForMaster(port: number, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

export async function startSentinelSetup(options: SentinelSetupOptions = {}): Promise<SentinelSetup> {
  const name = options.name ?? 'mymaster'
  const downAfterMs = options.downAfterMs ?? 1000
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 3000
  const startTimeoutMs = options.startTimeoutMs ?? 30_000
  const dirs: string[] = []
  const started: { stop(): Promise<void> }[] = []
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()))
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  try {
    const master = await RedisServer.start()
    started.push(master)
    const replica = await RedisServer.start({ args: ['--replicaof', REDIS_HOST, String(master.port)] })
    started.push(replica)
    const deadline = Date.now() + startTimeoutMs
    await until(() => /master_link_status:up/.test(replica.cli(['INFO', 'replication'])), deadline, 'the replica to sync with the master')

    const sentinels: SentinelProcess[] = []
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'astra-sentinel-'))
      dirs.push(dir)
      const sentinel = new SentinelProcess(await freePort(), dir)
      sentinel.start(
        [
          `port ${sentinel.port}`,
          `bind ${REDIS_HOST}`,
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${name} ${REDIS_HOST} ${master.port} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      )
      started.push(sentinel)
      sentinels.push(sentinel)
    }
    for (const sentinel of sentinels) {
      await until(() => sentinel.cli(['PING']) === 'PONG', deadline, `sentinel ${sentinel.port} to answer`)
      await until(() => sentinel.cli(['SENTINEL', 'REPLICAS', name]).includes(String(replica.port)), deadline, `sentinel ${sentinel.port} to see the replica`)
      await until(() => countEntries(sentinel.cli(['SENTINEL', 'SENTINELS', name])) >= 2, deadline, `sentinel ${sentinel.port} to know the other sentinels`)
    }

    const masterPortFrom = (sentinel: SentinelProcess): number | undefined => {
      const port = Number(sentinel.cli(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]).split('\n')[1])
      return Number.isInteger(port) && port > 0 ? port : undefined
    }
    return {
      name,
      master,
      replica,
      sentinels,
      url: `redis+sentinel://${sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${name}`,
      masterPort: () => {
        for (const sentinel of sentinels) {
          const port = masterPortFrom(sentinel)
          if (port !== undefined) return port
        }
        return undefined
      },
      waitForMaster: (port, timeoutMs = 30_000) => until(() => sentinels.every((s) => masterPortFrom(s) === port), Date.now() + timeoutMs, `every sentinel to report the master on port ${port}`),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Entries in a redis-cli reply listing one flat field/value block per entry (each starts with "name"). */
function countEntries(reply: string): number {
  return reply.split('\n').filter((line) => line === 'name').length
}

async function until(check: () => boolean, deadline: number, what: string): Promise<void> {
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}
