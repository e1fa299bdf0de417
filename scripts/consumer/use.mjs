// An ES module user of the installed package (see use.cjs). Imports every subpath of the
// exports map and checks it is the CommonJS build seen through `import`: the same names,
// the same objects (one module instance) and the same default export, so the types that
// `node10` and `bundler` resolution read (the CommonJS ones) describe what `import` gets.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { InMemoryLRUCache, createCache } from 'astra-cache'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const packageDir = fs.realpathSync(process.env.EXPECT_PACKAGE_DIR ?? path.join(here, 'node_modules', 'astra-cache'))
const manifest = require('astra-cache/package.json')
const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort()

for (const [subpath, entry] of Object.entries(manifest.exports)) {
  if (subpath === './package.json') continue
  const specifier = `astra-cache${subpath.slice(1)}`
  const file = fs.realpathSync(fileURLToPath(import.meta.resolve(specifier)))
  assert.equal(file, path.join(packageDir, entry.import.default), `${specifier} gets its import target`)
  const esm = await import(specifier)
  const cjs = require(specifier)
  assert.deepEqual(names(esm), names(cjs), `${specifier}: import and require give the same names`)
  assert.deepEqual(names(esm).filter((k) => esm[k] !== cjs[k]), [], `${specifier}: the same objects`)
  assert.equal(esm.default, cjs.default, `${specifier}: the same default export`)
}

const cache = new InMemoryLRUCache({ maxsize: 10 })
assert.equal(cache.engine, process.env.EXPECT_ENGINE ?? 'native')
await cache.set('k', 'v')
assert.equal(await cache.get('k'), 'v')
await cache.close()
const fromEnv = createCache({ CACHE_ENABLED: 'true', CACHE_BACKEND: 'memory', CACHE_MAXSIZE: '5' })
await fromEnv.set('x', 1)
assert.equal(await fromEnv.get('x'), 1)
await fromEnv.close()
console.log(`esm ok: engine ${cache.engine}`)
