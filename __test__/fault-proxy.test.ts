/**
 * The TCP fault proxy (helpers/fault-proxy.ts) does what each mode says, seen by a raw ioredis
 * client and by a plain socket against a real redis-server: delay, blackhole, half-open in
 * each direction, reset (ECONNRESET), refuse (ECONNREFUSED) and heal. Other fault tests rely
 * on these behaviours, so they are checked here on their own.
 *
 * The only time figure asserted is a lower bound the proxy itself imposes (a delayed reply
 * cannot arrive before its delay); "hangs" are checked as still pending after a wait.
 */
import net from 'node:net'
import test from 'ava'
import { Redis, type RedisOptions } from 'ioredis'
import { eventually } from './helpers/eventually'
import { FaultProxy } from './helpers/fault-proxy'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

const PENDING = Symbol('pending')

/** The promise's value, or PENDING when it has not settled within `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | typeof PENDING> {
  return Promise.race([promise, sleep(ms).then((): typeof PENDING => PENDING)])
}

/** A raw ioredis client through the proxy: no retry, no reconnect, so faults show as they are. */
async function connect(proxy: FaultProxy, extra: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(proxy.port, proxy.host, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, ...extra })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** A plain TCP connection attempt: resolves with the error code, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

if (redisTestsOrSkip(test, 'fault proxy against a real redis-server')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(() => server?.stop())

  async function proxyFor(t: { teardown(fn: () => unknown): void }): Promise<FaultProxy> {
    const proxy = await FaultProxy.start(server.port)
    t.teardown(() => proxy.close())
    return proxy
  }

  /** A client and a subscriber to `channel`, both through a new proxy; the messages it receives. */
  async function clientAndSubscriber(t: { teardown(fn: () => unknown): void }, channel: string) {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    const subscriber = await connect(proxy)
    t.teardown(() => {
      client.disconnect()
      subscriber.disconnect()
    })
    await subscriber.subscribe(channel)
    const messages: string[] = []
    subscriber.on('message', (_channel, message) => messages.push(message))
    return { proxy, client, messages }
  }

  test('passes traffic through unchanged', async (t) => {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    t.teardown(() => client.disconnect())
    await client.set('pass:k', 'v')
    t.is(await client.get('pass:k'), 'v')
    t.is(server.cli(['GET', 'pass:k']), 'v', 'the real server holds what went through the proxy')
    t.deepEqual(proxy.counts(), { open: 1, accepted: 1 })
  })

  test('delay: replies come late, in order; a client timeout fires and later replies still match their commands', async (t) => {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    const impatient = await connect(proxy, { commandTimeout: 100 })
    t.teardown(() => {
      client.disconnect()
      impatient.disconnect()
    })
    await client.set('delay:b', 'b')
    proxy.delay(150)
    const started = performance.now()
    t.is(await client.ping(), 'PONG')
    const elapsed = performance.now() - started
    t.true(elapsed >= 295, `a round trip through two 150 ms delays took ${elapsed.toFixed(0)} ms`)

    await t.throwsAsync(impatient.set('delay:a', 'a'), { message: /Command timed out/ })
    await proxy.heal()
    // The SET that timed out on the client still reached Redis; its late reply is skipped, not
    // handed to the next command.
    t.is(await impatient.get('delay:b'), 'b')
    t.is(await impatient.get('delay:a'), 'a')
  })

  test('delay can be set per direction', async (t) => {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    t.teardown(() => client.disconnect())
    proxy.delay(3000, ['toClient'])
    const set = client.set('dir:k', '1')
    t.true(await eventually(() => server.cli(['GET', 'dir:k']) === '1', 2500), 'the request was not delayed')
    t.is(await settledWithin(set, 0), PENDING, 'the reply is')
    t.is(await set, 'OK')
  })

  test('heal delivers bytes still waiting out a delay at once, in order', async (t) => {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    t.teardown(() => client.disconnect())
    proxy.delay(60_000)
    const set = client.set('heal-delay:k', '1')
    const get = client.get('heal-delay:k')
    t.true(await eventually(() => proxy.delayedBytes().toServer > 0), 'the requests wait out the delay')
    t.is(server.cli(['GET', 'heal-delay:k']), '', 'nothing was forwarded yet')
    await proxy.heal()
    // Without the flush the replies would come a minute later; 5 s is far above a loopback round trip.
    t.is(await settledWithin(set, 5000), 'OK')
    t.is(await get, '1', 'the SET went before the GET sent after it')
    t.deepEqual(proxy.delayedBytes(), { toServer: 0, toClient: 0 })
  })

  test('blackhole: calls on open and new connections hang without a close, then complete after heal', async (t) => {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    t.teardown(() => client.disconnect())
    let closed = false
    client.on('close', () => (closed = true))

    proxy.blackhole()
    const set = client.set('bh:k', '1')
    t.is(await settledWithin(set, 500), PENDING)
    t.true(await eventually(() => proxy.heldBytes().toServer > 0), 'the request was read and held')
    t.is(server.cli(['GET', 'bh:k']), '', 'nothing was forwarded')
    t.false(closed)
    t.is(client.status, 'ready')

    // A new connection completes its TCP handshake but is never answered (ioredis' ready check hangs).
    const late = new Redis(proxy.port, proxy.host, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    late.on('error', () => {})
    t.teardown(() => late.disconnect())
    const ready = late.connect()
    t.is(await settledWithin(ready, 500), PENDING)
    t.not(late.status, 'ready')

    await proxy.heal()
    t.is(await set, 'OK')
    t.is(server.cli(['GET', 'bh:k']), '1')
    await ready
    t.is(await late.get('bh:k'), '1')
  })

  test("half-open toClient: requests reach Redis, replies never come back, nothing closes", async (t) => {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    t.teardown(() => client.disconnect())
    proxy.halfOpen('toClient')
    const set = client.set('ho:k', '1')
    t.true(await eventually(() => server.cli(['GET', 'ho:k']) === '1'), 'the SET ran on the server')
    t.is(await settledWithin(set, 300), PENDING, 'but its reply is held')
    t.is(client.status, 'ready')
    await proxy.heal()
    t.is(await set, 'OK')
  })

  test('half-open toServer: nothing the client sends arrives, while pushes from Redis still do', async (t) => {
    const { proxy, client, messages } = await clientAndSubscriber(t, 'ho:channel')

    proxy.halfOpen('toServer')
    const set = client.set('ho2:k', '1')
    t.is(await settledWithin(set, 300), PENDING)
    t.is(server.cli(['GET', 'ho2:k']), '', 'the SET never reached the server')
    server.cli(['PUBLISH', 'ho:channel', 'hello'])
    await eventually(() => messages.length > 0)
    t.deepEqual(messages, ['hello'], 'server-to-client traffic still flows')

    await proxy.heal()
    t.is(await set, 'OK')
    t.is(server.cli(['GET', 'ho2:k']), '1')
  })

  test('strand: open connections go silent for good, even after heal, with no close; new connections work', async (t) => {
    const { proxy, client, messages } = await clientAndSubscriber(t, 'st:channel')
    let closed = false
    client.on('close', () => (closed = true))

    proxy.strand()
    const set = client.set('st:k', '1')
    server.cli(['PUBLISH', 'st:channel', 'lost'])
    await proxy.heal()
    t.is(await settledWithin(set, 500), PENDING, 'the request is gone, healed or not')
    t.is(server.cli(['GET', 'st:k']), '', 'and never reached the server')
    t.deepEqual(messages, [], 'the push was dropped')
    t.false(closed)
    t.is(client.status, 'ready')

    const fresh = await connect(proxy)
    t.teardown(() => fresh.disconnect())
    t.is(await fresh.set('st:k', '2'), 'OK')
    t.is(server.cli(['GET', 'st:k']), '2')
  })

  test('reset: open connections get ECONNRESET (plain socket and ioredis)', async (t) => {
    const proxy = await proxyFor(t)
    const errors: NodeJS.ErrnoException[] = []
    const client = await connect(proxy)
    client.on('error', (err) => errors.push(err))
    t.teardown(() => client.disconnect())
    const socket = net.connect({ port: proxy.port, host: proxy.host })
    const socketError = new Promise<string | undefined>((resolve) => socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code)))
    await new Promise((resolve) => socket.once('connect', resolve))
    while (proxy.counts().open < 2) await sleep(5)

    proxy.blackhole()
    const get = client.get('reset:k')
    await sleep(50)
    proxy.reset()
    t.is(await socketError, 'ECONNRESET')
    await t.throwsAsync(get)
    t.true(errors.some((err) => err.code === 'ECONNRESET'), `ioredis errors: ${errors.map((e) => e.code ?? e.message).join(', ')}`)
    while (proxy.counts().open > 0) await sleep(5)
    t.is(proxy.counts().open, 0)
  })

  test('refuse: new connections get ECONNREFUSED, open ones keep working; heal listens again on the same port', async (t) => {
    const proxy = await proxyFor(t)
    const client = await connect(proxy)
    t.teardown(() => client.disconnect())
    const port = proxy.port
    proxy.refuse()
    t.is(await tryConnect(port), 'ECONNREFUSED')
    t.is(await client.ping(), 'PONG', 'an open connection is not affected')
    await proxy.heal()
    t.is(proxy.port, port)
    t.is(await tryConnect(port), 'connected')
    const again = await connect(proxy)
    t.teardown(() => again.disconnect())
    t.is(await again.ping(), 'PONG')
  })
}
