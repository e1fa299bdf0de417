#!/usr/bin/env node
// The "prepare" script: builds a source checkout into a working package. npm runs it on
// `npm install` in a clone, on `npm link`, when it installs astra-cache from a git URL (in
// its own clone, before packing it), and on `npm pack` / `npm publish`; so a clone, a link,
// a git install and a tarball all get a built package (docs/packaging.md, "What the
// lifecycle scripts do").
//
// 1. The native engine for this platform: built with cargo when no binary is present, or
//    when the Rust sources are newer than the binary. Never fails the install: without cargo
//    (or when the build fails) the pure-TS engine serves instead, and one line says so.
//    ASTRA_CACHE_SKIP_NATIVE_BUILD=1 skips this step.
// 2. The TypeScript build, dist/ (CommonJS, the ESM entries, types), from scratch so that no
//    file of a removed module is left to be packed. Fails the install when it fails (a type
//    error included): there would be no dist/, or one built from sources that do not check.
// In an installed copy (no crates/, no src/) there is nothing to build and it does nothing.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const nativeDir = path.join(root, 'native')

function log(line) {
  console.log(`astra-cache: ${line}`)
}

/** Newest modification time (ms) of the Rust sources, 0 if there are none. */
function newestRustSource() {
  let newest = 0
  const visit = (p) => {
    let st
    try {
      st = fs.statSync(p)
    } catch {
      return
    }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) if (name !== 'target') visit(path.join(p, name))
    } else if (/\.(rs|toml)$/.test(p) || p.endsWith('Cargo.lock')) {
      newest = Math.max(newest, st.mtimeMs)
    }
  }
  visit(path.join(root, 'crates'))
  visit(path.join(root, 'Cargo.toml'))
  visit(path.join(root, 'Cargo.lock'))
  return newest
}

/** The binary the generated loader would pick here, if it loads; else null. */
function loadableBinary() {
  const probe = spawnSync(
    process.execPath,
    ['-e', "const b = require('./native/index.js'); if (typeof b.bindingVersion !== 'function' || typeof b.layout !== 'function') process.exit(3)"],
    { cwd: root, stdio: 'ignore' },
  )
  if (probe.status !== 0) return null
  const binaries = fs.existsSync(nativeDir) ? fs.readdirSync(nativeDir).filter((f) => f.endsWith('.node')) : []
  return binaries.length > 0 ? path.join(nativeDir, binaries[0]) : 'package'
}

function hasCargo() {
  return spawnSync('cargo', ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' }).status === 0
}

function buildNative() {
  if (!fs.existsSync(path.join(root, 'crates'))) return
  if (process.env.ASTRA_CACHE_SKIP_NATIVE_BUILD === '1') {
    log('ASTRA_CACHE_SKIP_NATIVE_BUILD=1: not building the native engine')
    return
  }
  const binary = loadableBinary()
  if (binary === 'package') return // a prebuilt platform package serves
  if (binary !== null && fs.statSync(binary).mtimeMs >= newestRustSource()) return // up to date
  if (!hasCargo()) {
    log('no native binary for this platform and no cargo on PATH: the pure-TS engine will be used')
    return
  }
  log(binary === null ? 'building the native engine (cargo, release)…' : 'Rust sources changed: rebuilding the native engine…')
  const npm = process.env.npm_execpath
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build:native'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build:native'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (result.status !== 0) {
    log('native build failed (see above): the pure-TS engine will be used')
  }
}

function buildTypeScript() {
  const tsconfig = path.join(root, 'tsconfig.build.json')
  if (!fs.existsSync(path.join(root, 'src')) || !fs.existsSync(tsconfig)) return
  let tsc
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [root] })
  } catch {
    log('TypeScript is not installed, so dist/ cannot be built: install the devDependencies too (not --omit=dev)')
    process.exit(1)
  }
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true })
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) {
    log('the TypeScript build failed (see above)')
    process.exit(1)
  }
  log('built dist/ (TypeScript)')
}

try {
  buildNative()
} catch (err) {
  log(`native build step skipped: ${err && err.message ? err.message : err}`)
}
buildTypeScript()
