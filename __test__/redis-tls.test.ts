/**
 * rediss:// against redis-server's own TLS port, with a throwaway CA and server certificate
 * made by openssl. Skipped (with the reason) only when openssl is missing or the installed
 * redis-server was built without TLS; under CI=true those are failures, not skips.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { RedisCache } from '../src/redis/redis-cache'
import { freePort, redisServerAvailable, redisTestsOrSkip, startRedis, type RedisAvailability } from './helpers/redis-server'

function openssl(args: string[], cwd: string): void {
  const out = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  if (out.error || out.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${out.error?.message ?? out.stderr}`)
}

/** CA + server certificate for 127.0.0.1 in a fresh directory. */
function makeCertificates(): string {
  const dir = mkdtempSync(join(tmpdir(), 'astra-tls-'))
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=astra-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt'], dir)
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], dir)
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'server.crt'], dir)
  return dir
}

function tlsCapability(): RedisAvailability {
  const redis = redisServerAvailable()
  if (!redis.available) return redis
  const ssl = spawnSync('openssl', ['version'], { encoding: 'utf8' })
  if (ssl.error || ssl.status !== 0) return { available: false, reason: 'openssl is not installed (needed to make a test certificate)' }
  // A build without TLS refuses the tls-port directive at config load.
  const probe = spawnSync('redis-server', ['--port', '0', '--tls-port', '1', '--test-memory', '1'], { encoding: 'utf8', timeout: 5000 })
  const text = `${probe.stdout}${probe.stderr}`
  if (/tls-port/i.test(text) && /(Bad directive|not compiled|unsupported|no TLS)/i.test(text)) {
    return { available: false, reason: `the installed redis-server has no TLS support: ${text.trim().split('\n').pop()}` }
  }
  return { available: true }
}

if (redisTestsOrSkip(test, 'RedisCache over TLS (rediss://)', tlsCapability())) {
  test('rediss:// with a CA works; the data lands in Redis', async (t) => {
    const dir = makeCertificates()
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const tlsPort = await freePort()
    const server = await startRedis({
      args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'),
        '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no'],
    })
    t.teardown(() => server.stop())
    const cache = new RedisCache<string>({
      redisUrl: `rediss://127.0.0.1:${tlsPort}/4`,
      keyPrefix: 'tls:',
      redisOptions: { tls: { ca: readFileSync(join(dir, 'ca.crt')) } },
    })
    t.teardown(() => cache.close())
    const errors: Error[] = []
    cache.on('error', (e) => errors.push(e))
    await cache.set('k', 'over-tls')
    t.is(await cache.get('k'), 'over-tls')
    t.deepEqual(errors, [])
    t.is(server.cli(['-n', '4', 'GET', 'tls:k']), '"over-tls"')
  })

  test('rediss:// with an untrusted certificate does not connect (and does not reject calls)', async (t) => {
    const dir = makeCertificates()
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const tlsPort = await freePort()
    const server = await startRedis({
      args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'),
        '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no'],
    })
    t.teardown(() => server.stop())
    const cache = new RedisCache<string>({ redisUrl: `rediss://127.0.0.1:${tlsPort}`, keyPrefix: 'tls:', commandTimeoutMs: 300 })
    t.teardown(() => cache.close())
    const errors: Error[] = []
    cache.on('error', (e) => errors.push(e))
    await cache.set('k', 'v')
    t.is(server.cli(['EXISTS', 'tls:k']), '0')
    t.true(errors.length > 0)
  })
}
