#!/usr/bin/env node
// The package's entry points have one source: the `exports` map in package.json. This file
// derives what older resolvers need from it, so adding a subpath is one `exports` entry:
//   - `main` and `types`: the root entry's CommonJS build, for tools that do not read `exports`;
//   - `typesVersions`: each subpath's CommonJS types, for TypeScript's `node10` resolution
//     (which ignores `exports`; without it `import 'astra-cache/keyv'` finds no types).
// Every subpath other than ./package.json must give `import` and `require`, each with
// `types` first, then `default` (TypeScript reads the first condition that matches).
//
//   node scripts/package-entries.js           writes the derived fields into package.json
//   node scripts/package-entries.js --check   exits 1 and says what differs (CI, tests)
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const MANIFEST = path.join(__dirname, '..', 'package.json')
const CONDITIONS = ['import', 'require']
const TARGETS = ['types', 'default']

/** The subpaths that are code entries ('.', './keyv', ...), in map order. */
function codeSubpaths(manifest) {
  return Object.keys(manifest.exports ?? {}).filter((subpath) => subpath !== './package.json')
}

/** Problems with the shape of the exports map, as sentences (empty when it is fine). */
function shapeProblems(manifest) {
  const problems = []
  const subpaths = codeSubpaths(manifest)
  if (!subpaths.includes('.')) problems.push('exports has no "." entry')
  for (const subpath of subpaths) {
    const entry = manifest.exports[subpath]
    if (entry === null || typeof entry !== 'object') {
      problems.push(`exports["${subpath}"] must be an object with "import" and "require"`)
      continue
    }
    for (const condition of CONDITIONS) {
      const keys = Object.keys(entry[condition] ?? {})
      if (JSON.stringify(keys) !== JSON.stringify(TARGETS)) {
        problems.push(`exports["${subpath}"].${condition} must have exactly "types" then "default" (has ${JSON.stringify(keys)})`)
      }
    }
  }
  return problems
}

const bare = (target) => target.replace(/^\.\//, '')

/** main, types and typesVersions as the exports map implies them. */
function derivedFields(manifest) {
  const root = manifest.exports['.'].require
  const typesPaths = {}
  for (const subpath of codeSubpaths(manifest)) {
    if (subpath !== '.') typesPaths[subpath.slice(2)] = [manifest.exports[subpath].require.types]
  }
  return { main: bare(root.default), types: bare(root.types), typesVersions: { '*': typesPaths } }
}

/** The derived fields whose value in the manifest differs from derivedFields(), as sentences. */
function staleFields(manifest) {
  const want = derivedFields(manifest)
  return Object.keys(want)
    .filter((field) => JSON.stringify(manifest[field]) !== JSON.stringify(want[field]))
    .map((field) => `package.json "${field}" is ${JSON.stringify(manifest[field])}, the exports map implies ${JSON.stringify(want[field])}`)
}

function main() {
  const check = process.argv.includes('--check')
  const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'))
  const shape = shapeProblems(manifest)
  const problems = shape.length > 0 ? shape : check ? staleFields(manifest) : []
  if (problems.length > 0) {
    for (const problem of problems) console.error(`package-entries: ${problem}`)
    if (shape.length === 0) console.error('package-entries: run `npm run entries` to write the derived fields')
    process.exit(1)
  }
  if (check) return
  // Object.assign keeps each field where it already is; new ones go at the end.
  fs.writeFileSync(MANIFEST, JSON.stringify(Object.assign(manifest, derivedFields(manifest)), null, 2) + '\n')
  console.log(`package-entries: wrote main, types and typesVersions for ${codeSubpaths(manifest).join(', ')}`)
}

if (require.main === module) main()

module.exports = { codeSubpaths, shapeProblems, derivedFields, staleFields }
