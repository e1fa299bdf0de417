#!/usr/bin/env node
// Checks a project that uses astra-cache the way a user's would: the package installed from
// a tarball or a git URL, linked, or (in __test__/package-exports.test.ts) a fresh build
// linked into node_modules. Used by scripts/pack-test.sh and that test.
//
//   node check.js setup <project> [README.md]   copies the user files below into <project>,
//       writes one import per subpath of the installed package's exports map and a tsconfig
//       per resolution mode; with a README, every ```ts block of it and of the docs/*.md next
//       to it (the quick start first: the README must have one) joins the node16 files, each
//       as its own module, with doc-prelude.d.ts declaring what examples take from context.
//       Their imports need the packages `node check.js deps` prints in the project.
//   node check.js deps   prints those packages, space-separated.
//   node check.js tsc <project> <node10|node16|bundler>   compiles them with the project's
//       TypeScript (strict, lib checks on) and checks that each subpath got the types its
//       exports entry names for that mode (require types for node10, through typesVersions).
// The runtime checks are `node <project>/use.cjs` and `node <project>/use.mjs`.
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const MODES = {
  node10: { options: { module: 'commonjs', moduleResolution: 'node10' }, files: ['typed-use.ts', 'subpaths.ts'], conditions: ['require'] },
  node16: {
    options: { module: 'node16', moduleResolution: 'node16' },
    files: ['typed-use.mts', 'typed-use.cts', 'subpaths.mts', 'subpaths.cts'],
    conditions: ['import', 'require'],
  },
  bundler: { options: { module: 'esnext', moduleResolution: 'bundler' }, files: ['typed-use.ts', 'subpaths.ts'], conditions: ['import'] },
}

function fail(message) {
  console.error(`consumer check: ${message}`)
  process.exit(1)
}

/** The package as the project sees it. (Not require.resolve: from this file, inside the package, that would find the package itself.) */
function installed(project) {
  const dir = fs.realpathSync(path.join(project, 'node_modules', 'astra-cache'))
  return { dir, manifest: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) }
}

const codeSubpaths = (manifest) => Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json')

/** Declares the names the examples take from their context (User, db, a logger...). */
const PRELUDE = 'doc-prelude.d.ts'
/** What the examples import besides astra-cache: the optional peers, and cache-manager with the Keyv store. */
const EXAMPLE_DEPENDENCIES = ['ioredis', 'prom-client', 'keyv', 'cache-manager']
const TS_BLOCK = /^```(?:ts|typescript)\n([\s\S]*?)^```/gm

/** The ```ts blocks of a markdown text. */
function tsBlocks(text) {
  return [...text.matchAll(TS_BLOCK)].map((m) => m[1])
}

/**
 * The documentation's examples as the node16 files a user would paste them into:
 * doc-<n>-<source>.mts, the README's quick start first.
 */
function docExamples(project, readme) {
  const text = fs.readFileSync(readme, 'utf8')
  const at = text.search(/^#+ .*quick ?start/im)
  if (at < 0 || tsBlocks(text.slice(at)).length === 0) fail(`no \`\`\`ts block after a "Quick start" heading in ${readme}`)
  fs.copyFileSync(path.join(__dirname, PRELUDE), path.join(project, PRELUDE))
  const docs = path.join(path.dirname(readme), 'docs')
  const sources = [readme, ...(fs.existsSync(docs) ? fs.readdirSync(docs).filter((f) => f.endsWith('.md')).sort().map((f) => path.join(docs, f)) : [])]
  const files = []
  for (const source of sources) {
    const relative = path.relative(path.dirname(readme), source)
    tsBlocks(source === readme ? text : fs.readFileSync(source, 'utf8')).forEach((block, i) => {
      const file = `doc-${relative.replace(/\W+/g, '-')}-${i + 1}.mts`
      // `export {}`: a block without imports is still a module, so blocks never share names.
      // Appended, so tsc's line numbers are the block's own.
      fs.writeFileSync(path.join(project, file), `${block}\nexport {} // ${relative}, \`\`\`ts block ${i + 1}\n`)
      files.push(file)
    })
  }
  return [PRELUDE, ...files]
}

function setup(project, readme) {
  for (const file of ['use.cjs', 'use.mjs']) fs.copyFileSync(path.join(__dirname, file), path.join(project, file))
  for (const ext of ['ts', 'mts', 'cts']) fs.copyFileSync(path.join(__dirname, 'typed-use.ts'), path.join(project, `typed-use.${ext}`))
  const { manifest } = installed(project)
  // One import per subpath: under `strict`, a subpath whose types are missing is an error (TS7016).
  const imports = codeSubpaths(manifest).map((subpath, i) => `import * as entry${i} from 'astra-cache${subpath.slice(1)}'`)
  const body = `${imports.join('\n')}\nexport const entries = [${imports.map((_, i) => `entry${i}`).join(', ')}]\n`
  for (const ext of ['ts', 'mts', 'cts']) fs.writeFileSync(path.join(project, `subpaths.${ext}`), body)
  const examples = readme ? docExamples(project, readme) : []
  for (const [mode, { options, files }] of Object.entries(MODES)) {
    const compilerOptions = { target: 'ES2022', ...options, strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }
    const all = mode === 'node16' ? [...files, ...examples] : files
    fs.writeFileSync(path.join(project, `tsconfig.${mode}.json`), JSON.stringify({ compilerOptions, files: all }, null, 2) + '\n')
  }
}

function typecheck(project, mode) {
  if (!MODES[mode]) fail(`unknown mode ${mode}: one of ${Object.keys(MODES).join(', ')}`)
  const tsc = require.resolve('typescript/bin/tsc', { paths: [project, __dirname] })
  let listing
  try {
    listing = execFileSync(process.execPath, [tsc, '-p', `tsconfig.${mode}.json`, '--explainFiles'], { cwd: project, encoding: 'utf8' })
  } catch (err) {
    const errors = String(err.stdout).split('\n').filter((line) => line.includes('error TS'))
    fail(`tsc (${mode}) failed:\n${errors.join('\n') || err.message}`)
  }
  // --explainFiles lists each file it read (unindented, relative to the project), then why.
  const read = new Set(
    listing
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith(' '))
      .map((line) => path.resolve(project, line.trim()))
      .filter((file) => fs.existsSync(file))
      .map((file) => fs.realpathSync(file)),
  )
  const { dir, manifest } = installed(project)
  const missing = []
  for (const subpath of codeSubpaths(manifest)) {
    for (const condition of MODES[mode].conditions) {
      const types = fs.realpathSync(path.join(dir, manifest.exports[subpath][condition].types))
      if (!read.has(types)) missing.push(`astra-cache${subpath.slice(1)} (${condition}): ${manifest.exports[subpath][condition].types}`)
    }
  }
  if (missing.length > 0) fail(`tsc (${mode}) did not read the types the exports map names:\n${missing.join('\n')}`)
  console.log(`tsc ${mode} ok: ${codeSubpaths(manifest).length} subpaths, conditions ${MODES[mode].conditions.join(', ')}`)
}

const [command, project, arg] = process.argv.slice(2)
if (command === 'deps') {
  console.log(EXAMPLE_DEPENDENCIES.join(' '))
  process.exit(0)
}
if (!project || !fs.existsSync(project)) fail('usage: check.js setup <project> [README.md] | check.js tsc <project> <mode> | check.js deps')
if (command === 'setup') setup(path.resolve(project), arg && path.resolve(arg))
else if (command === 'tsc') typecheck(path.resolve(project), arg)
else fail(`unknown command ${command}`)
