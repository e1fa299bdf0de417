/**
 * Whether `scope: 'machine'` is offered on this platform, asserted for every platform CI
 * runs on (.github/workflows/ci.yml runs this file on Linux, macOS and Windows with the
 * addon built there): on Linux a machine-wide cache opens, stores and reads back; elsewhere
 * opening one, and removing a segment, are refused with CacheUnsupportedPlatformError
 * (ERR_CACHE_UNSUPPORTED_PLATFORM) naming the platform, while other caches keep working.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { CacheUnsupportedPlatformError, InMemoryLRUCache } from '../src/index'
import { loadNative } from '../src/native'
import type { MachineBinding } from '../src/memory/machine-engine'

const dir = mkdtempSync(join(tmpdir(), 'astra-platform-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))
const name = `platform-${process.pid}`

test('the memory engine on this platform is the native one (the addon was built here)', (t) => {
  t.is(new InMemoryLRUCache().engine, 'native')
})

if (process.platform === 'linux') {
  test('Linux: a machine-wide cache opens, is shared by a second attachment, and is removed', async (t) => {
    const a = InMemoryLRUCache.shared<string>(name, { scope: 'machine', dir, maxsize: 100 })
    const b = InMemoryLRUCache.shared<string>(name, { scope: 'machine', dir, maxsize: 100 })
    await a.set('k', 'v')
    t.is(await b.get('k'), 'v')
    t.deepEqual(a.verify(), [])
    a.close()
    b.close()
    t.true(InMemoryLRUCache.removeShared(name, { dir }))
  })
} else {
  test(`${process.platform}: scope machine is refused with CacheUnsupportedPlatformError naming the platform`, (t) => {
    const err = t.throws(() => InMemoryLRUCache.shared(name, { scope: 'machine', dir, maxsize: 100 }), { instanceOf: CacheUnsupportedPlatformError })
    t.is(err?.code, 'ERR_CACHE_UNSUPPORTED_PLATFORM')
    t.true(err?.message.includes(process.platform), err?.message)
    const removal = t.throws(() => InMemoryLRUCache.removeShared(name, { dir }), { instanceOf: CacheUnsupportedPlatformError })
    t.is(removal?.code, 'ERR_CACHE_UNSUPPORTED_PLATFORM')
  })

  test(`${process.platform}: the addon itself says it has no machine-wide caches and refuses to open one`, (t) => {
    const binding = loadNative() as unknown as MachineBinding
    t.false(binding.mSupported())
    const err = t.throws(() => binding.mOpen(dir, name, 100, 1 << 20, 1, 0o600, 1000))
    t.is((err as { code?: string }).code, 'ERR_CACHE_UNSUPPORTED_PLATFORM')
  })

  test(`${process.platform}: the process-scope shared cache still works`, async (t) => {
    const c = InMemoryLRUCache.shared<string>(name, { scope: 'process', maxsize: 100 })
    await c.set('k', 'v')
    t.is(await c.get('k'), 'v')
    await c.close()
  })
}
