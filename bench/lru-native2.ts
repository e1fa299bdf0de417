/**
 * lru-native2 (C++ addon, the other native LRU on npm) is never a dependency of this
 * package: it is installed on demand into a scratch directory outside the repo and loaded
 * from there. If it cannot be installed or built, the bench says why and goes on.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

export interface LruNative2Ctor {
  new (o: { maxElements: number; maxAge?: number }): {
    get(k: string): unknown
    set(k: string, v: unknown): void
    size(): number
    clear(): void
  }
}

export function lruNative2Dir(): string {
  return process.env.ASTRA_LRU_NATIVE2_DIR ?? path.join(os.tmpdir(), 'astra-bench-lru-native2')
}

function tryLoad(dir: string): { ctor?: LruNative2Ctor; reason?: string } {
  try {
    const req = createRequire(path.join(dir, 'package.json'))
    return { ctor: req('lru-native2') as LruNative2Ctor }
  } catch (e) {
    return { reason: (e instanceof Error ? e.message : String(e)).split('\n')[0] }
  }
}

/** Node's own headers, when the distro ships them: node-gyp needs no download then. */
function localNodeDir(): string | undefined {
  try {
    const h = readFileSync('/usr/include/node/node_version.h', 'utf8')
    const major = /#define NODE_MAJOR_VERSION (\d+)/.exec(h)?.[1]
    if (major && `v${major}` === process.version.split('.')[0]) return '/usr'
  } catch {
    // no system headers: node-gyp downloads them (needs nodejs.org)
  }
  return undefined
}

/** `install: false` only loads what an earlier run built (the memory child processes). */
export function loadLruNative2(o: { install: boolean }): { ctor?: LruNative2Ctor; where?: string; reason?: string } {
  const dir = lruNative2Dir()
  const first = tryLoad(dir)
  if (first.ctor) return { ctor: first.ctor, where: `loaded from ${dir}` }
  if (!o.install) return { reason: `not installed in ${dir}: ${first.reason}` }
  mkdirSync(dir, { recursive: true })
  if (!existsSync(path.join(dir, 'package.json'))) {
    // allowScripts: npm 11 skips dependency install scripts (the node-gyp build) unless allowed
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'astra-bench-lru-native2', private: true, allowScripts: { 'lru-native2': true } }, null, 2),
    )
  }
  const nodedir = localNodeDir()
  process.stdout.write(`lru-native2: installing into ${dir} (npm install, node-gyp build)...\n`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['install', '--no-save', '--no-audit', '--no-fund', 'lru-native2'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 240_000,
    env: nodedir ? { ...process.env, npm_config_nodedir: nodedir } : process.env,
  })
  if (r.error || r.status !== 0) {
    const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ')
    return { reason: `npm install lru-native2 failed in ${dir}: ${r.error?.message ?? `exit ${r.status}`} ${tail}`.trim() }
  }
  const second = tryLoad(dir)
  if (second.ctor) return { ctor: second.ctor, where: `built in ${dir}` }
  return { reason: `installed in ${dir} but does not load (native build failed?): ${second.reason}` }
}
