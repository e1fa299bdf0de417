#!/usr/bin/env node
// Turns package.json into the manifest that is published: adds the `optionalDependencies` that
// the published astra-cache declares, every platform package under npm/ at exactly the root
// version (as `napi pre-publish` does), and drops the dev-only `prepare` script.
// They are added at release time, not committed: the platform packages of a new version are
// not on the registry until the release publishes them, and `npm ci` rejects a lockfile
// that cannot list them.
//
//   node scripts/release-manifest.js <path/to/package.json>   (default: ./package.json)
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const target = path.resolve(process.argv[2] ?? path.join(root, 'package.json'))
const manifest = JSON.parse(fs.readFileSync(target, 'utf8'))
const npmDir = path.join(root, 'npm')

const optional = {}
for (const dir of fs.readdirSync(npmDir).sort()) {
  const file = path.join(npmDir, dir, 'package.json')
  if (!fs.existsSync(file)) continue
  const platform = JSON.parse(fs.readFileSync(file, 'utf8'))
  if (platform.version !== manifest.version) {
    throw new Error(`${path.relative(root, file)} has version ${platform.version}, the root has ${manifest.version}: run \`npx napi version\``)
  }
  optional[platform.name] = manifest.version
}
const expected = manifest.napi?.targets?.length ?? 0
if (Object.keys(optional).length !== expected) {
  throw new Error(`npm/ holds ${Object.keys(optional).length} platform packages but napi.targets lists ${expected}: run \`npx napi create-npm-dirs\``)
}
manifest.optionalDependencies = { ...manifest.optionalDependencies, ...optional }
// `prepare` builds the addon in a git checkout; a published package has nothing to build, and
// npm 11 would list the script in every user's install-scripts warning.
if (manifest.scripts) delete manifest.scripts.prepare
fs.writeFileSync(target, JSON.stringify(manifest, null, 2) + '\n')
console.log(`${target}: optionalDependencies = ${Object.keys(optional).join(', ')} @ ${manifest.version}`)
