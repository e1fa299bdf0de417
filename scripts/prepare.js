#!/usr/bin/env node
// Run by `npm install` (the "prepare" script): makes sure this checkout has a native
// engine for this platform. Builds it with cargo when no binary is present, or when the
// Rust sources are newer than the binary. Never fails the install: without cargo (or when
// the build fails) the pure-TS engine serves instead, and one line says so.
// ASTRA_CACHE_SKIP_NATIVE_BUILD=1 skips the build.
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

function main() {
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

try {
  main()
} catch (err) {
  log(`native build step skipped: ${err && err.message ? err.message : err}`)
}
