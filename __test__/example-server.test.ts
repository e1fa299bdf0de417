// Runs examples/server.ts as a real child process and talks to it over HTTP.
import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { parsePrometheusText, sampleValue } from './helpers/prometheus-text'

const root = resolve(__dirname, '..')

async function startServer(): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--import=tsx', 'examples/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const base = await new Promise<string>((resolvePort, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) resolvePort(match[1])
    })
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)))
  })
  return { child, base }
}

async function metrics(base: string) {
  const res = await fetch(`${base}/metrics`)
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`)
  return { contentType: res.headers.get('content-type'), samples: parsePrometheusText(await res.text()).samples }
}

test('GET /users/:id is cached and /metrics shows the hits and misses it caused', async (t) => {
  const { child, base } = await startServer()
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })

  const before = await metrics(base)
  t.regex(before.contentType ?? '', /^text\/plain/)
  t.is(sampleValue(before.samples, 'cache_hits_total', { cache: 'users' }), 0)
  t.is(sampleValue(before.samples, 'cache_misses_total', { cache: 'users' }), 0)

  const first = await fetch(`${base}/users/1`)
  t.is(first.status, 200)
  t.deepEqual(await first.json(), { id: '1', name: 'user 1' })
  const again = await fetch(`${base}/users/1`) // hit
  t.deepEqual(await again.json(), { id: '1', name: 'user 1' })
  t.is((await fetch(`${base}/users/2`)).status, 200) // miss
  t.is((await fetch(`${base}/users/999999`)).status, 404) // miss; "no such user" is cached too
  t.is((await fetch(`${base}/users/999999`)).status, 404) // hit
  t.is((await fetch(`${base}/nowhere`)).status, 404) // does not touch the cache

  const after = (await metrics(base)).samples
  t.is(sampleValue(after, 'cache_hits_total', { cache: 'users' }), 2)
  t.is(sampleValue(after, 'cache_misses_total', { cache: 'users' }), 3)
  t.is(sampleValue(after, 'cache_size', { cache: 'users' }), 3)
  t.is(sampleValue(after, 'cache_evictions_total', { cache: 'users' }), 0)

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.is(code, 0)
})
