// A CommonJS user of the installed package (run from a project where `astra-cache` is
// installed or linked, by scripts/consumer/check.js). Requires every subpath of the
// package's exports map, then uses the memory cache, a decorator and the Keyv store.
// EXPECT_ENGINE: the engine the memory cache must run on (default native).
// EXPECT_PACKAGE_DIR: the directory every subpath must resolve into (default: this project's node_modules).
'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const expectedEngine = process.env.EXPECT_ENGINE ?? 'native'
const packageDir = fs.realpathSync(process.env.EXPECT_PACKAGE_DIR ?? path.join(__dirname, 'node_modules', 'astra-cache'))
const manifest = require('astra-cache/package.json')

for (const subpath of Object.keys(manifest.exports)) {
  const specifier = `astra-cache${subpath.slice(1)}`
  const file = fs.realpathSync(require.resolve(specifier))
  assert.ok(file.startsWith(packageDir + path.sep), `${specifier} resolved to ${file}, outside ${packageDir}`)
  if (subpath === './package.json') continue
  assert.equal(file, path.join(packageDir, manifest.exports[subpath].require.default), `${specifier} gets its require target`)
  assert.ok(Object.keys(require(specifier)).length > 0, `${specifier} exports something`)
}

const { InMemoryLRUCache, cached, CacheError } = require('astra-cache')
const { KeyvAstraStore } = require('astra-cache/keyv')

;(async () => {
  const cache = new InMemoryLRUCache({ maxsize: 2, defaultTtl: 60 })
  assert.equal(cache.engine, expectedEngine)
  await cache.set('a', { n: 1 })
  await cache.set('b', 2)
  await cache.get('a')
  await cache.set('c', 3) // evicts b, the least recently used
  assert.deepEqual(await cache.get('a'), { n: 1 })
  assert.equal(await cache.get('b'), undefined)
  await assert.rejects(async () => cache.get(42), CacheError) // keys are strings
  assert.equal(new InMemoryLRUCache().engine, expectedEngine) // a second cache: still one fallback warning

  let calls = 0
  const square = cached({ cache, ttl: 30 })(async function square(x) { calls++; return x * x })
  assert.equal(await square(4), 16)
  assert.equal(await square(4), 16)
  assert.equal(calls, 1)

  const store = new KeyvAstraStore(new InMemoryLRUCache({ maxsize: 10 }), { closeCacheOnDisconnect: true })
  await store.set('k', 'v')
  assert.equal(await store.get('k'), 'v')
  await store.disconnect()
  await cache.close()
  console.log(`cjs ok: ${Object.keys(manifest.exports).length} subpaths, engine ${cache.engine}`)
})().catch((err) => {
  console.error(err)
  process.exit(1)
})
