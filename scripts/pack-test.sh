#!/usr/bin/env bash
# Tarball test: installs astra-cache as a user would and checks it works.
#
# Packs the package (with the optionalDependencies a release adds, scripts/release-manifest.js)
# and the linux-x64-gnu platform package, installs both into a temporary project outside the
# repo (no access to its node_modules), then runs a CommonJS script, an ESM script and
# `tsc --noEmit` on the README's quick start; asserts the native engine is in use. Also checks
# the JS fallback when no binary can be loaded, and that a plain `cargo build --release`
# builds a loadable addon (docs/packaging.md, "Build from source").
#
# Prints one TAP-style line per check ("ok N - ..." / "not ok N - ...") and exits non-zero
# if any failed. Needs the addon built (`npm run build:native`; `npm ci` does it).
# Set PACK_TEST_KEEP=1 to keep the temporary directory, PACK_TEST_README=file to read the
# quick start from another file than README.md.
# shellcheck disable=SC2317 # the check functions are called through check()
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT" || exit 1

WORK="$(mktemp -d "${TMPDIR:-/tmp}/astra-pack-test.XXXXXX")"
if [ "${PACK_TEST_KEEP:-}" = 1 ]; then echo "# work dir: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
LOG="$WORK/log"; mkdir -p "$LOG"

n=0; failed=0
check() { # check "description" command...: runs the command in a subshell from the repo root; output shown on failure
  local desc="$1"; shift
  n=$((n + 1))
  local out="$LOG/$n.log"
  if (cd "$ROOT" && "$@") >"$out" 2>&1; then
    echo "ok $n - $desc"
  else
    echo "not ok $n - $desc"; failed=$((failed + 1))
    sed 's/^/#   /' "$out" | tail -40
  fi
}
finish() { echo "# pack-test: $((n - failed)) passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

VERSION="$(node -p "require('./package.json').version")"
TRIPLE=linux-x64-gnu # the platform package this machine can load
BINARY="native/astra-cache.$TRIPLE.node"
TGZ="$WORK/tarballs"; APP="$WORK/app"; mkdir -p "$TGZ" "$APP"

# ---------------------------------------------------------------- build and pack
build_ts() { rm -rf dist && npm run build:ts; }
check "TypeScript builds (npm run build:ts)" build_ts
check "the addon is built ($BINARY; npm run build:native)" test -f "$BINARY"
[ "$failed" -eq 0 ] || finish

pack_root() {
  # pack as npm would publish, then add what the release adds and pack again
  npm pack --ignore-scripts --pack-destination "$WORK" --json >"$WORK/pack.json" || return 1
  mkdir -p "$WORK/stage" && tar xzf "$WORK/astra-cache-$VERSION.tgz" -C "$WORK/stage" || return 1
  node scripts/release-manifest.js "$WORK/stage/package/package.json" || return 1
  (cd "$TGZ" && npm pack --ignore-scripts "$WORK/stage/package")
}
check "npm pack astra-cache (with release optionalDependencies)" pack_root

tarball_contents() {
  node - "$WORK/pack.json" <<'EOF'
const files = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'))[0].files.map((f) => f.path)
const must = ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/esm/index.mjs', 'dist/esm/index.d.mts', 'native/index.js', 'native/index.d.ts']
const missing = must.filter((f) => !files.includes(f))
const stray = files.filter((f) => /\.node$|^src\/|^__test__\/|^crates\/|^target\/|\.tsbuildinfo$/.test(f))
if (missing.length || stray.length) { console.error({ missing, stray }); process.exit(1) }
EOF
}
check "the tarball holds dist (CJS, ESM, types) and the loader, and no sources or binaries" tarball_contents

pack_platform() {
  # the binary is not committed: a release copies it in with `napi artifacts`
  cp -r "npm/$TRIPLE" "$WORK/platform" && cp "$BINARY" "$WORK/platform/" && (cd "$TGZ" && npm pack --ignore-scripts "$WORK/platform")
}
check "npm pack astra-cache-$TRIPLE" pack_platform
[ "$failed" -eq 0 ] || finish

# ---------------------------------------------------------------- install into a fresh project
TS_VERSION="$(node -p "require('typescript/package.json').version")"
TYPES_NODE_VERSION="$(node -p "require('@types/node/package.json').version")"
cat >"$APP/package.json" <<'EOF'
{ "name": "consumer", "version": "1.0.0", "private": true }
EOF
install_app() {
  # The platform tarball is named on the command line, so it satisfies astra-cache's
  # optionalDependency on astra-cache-linux-x64-gnu@<exact version> without the registry.
  # The other platform packages are optional: npm asks the registry for them, gets 404
  # (until a release publishes them; after it, their os/cpu fields make npm skip them)
  # and goes on, as it would on a user's machine. ioredis and prom-client come from the
  # npm cache or the registry.
  cd "$APP" && env -u NODE_PATH npm install --no-audit --no-fund --prefer-offline --loglevel=warn \
    "$TGZ/astra-cache-$TRIPLE-$VERSION.tgz" "$TGZ/astra-cache-$VERSION.tgz" \
    "typescript@$TS_VERSION" "@types/node@$TYPES_NODE_VERSION"
}
check "npm install of both tarballs into a project outside the repo" install_app
installed_platform() {
  cd "$APP" && npm ls --all "astra-cache-$TRIPLE" && test -f "node_modules/astra-cache-$TRIPLE/astra-cache.$TRIPLE.node" \
    && ! test -e "node_modules/astra-cache/native/astra-cache.$TRIPLE.node"
}
check "astra-cache's optionalDependency resolves to the installed platform package" installed_platform
[ "$failed" -eq 0 ] || finish

# ---------------------------------------------------------------- CommonJS, ESM, TypeScript
cat >"$APP/check.cjs" <<'EOF'
const assert = require('node:assert/strict')
const path = require('node:path')
const { InMemoryLRUCache, createCache, cached, CacheError } = require('astra-cache')
// resolved inside this project, not from the repo
assert.ok(require.resolve('astra-cache').startsWith(path.join(__dirname, 'node_modules') + path.sep), require.resolve('astra-cache'))
assert.equal(typeof createCache, 'function', 'createCache is exported')
assert.equal(typeof cached, 'function', 'cached is exported')
const expected = process.env.EXPECT_ENGINE ?? 'native'
;(async () => {
  const cache = new InMemoryLRUCache({ maxsize: 2, defaultTtl: 60 })
  assert.equal(cache.engine, expected)
  await cache.set('a', { n: 1 })
  await cache.set('b', 2)
  await cache.get('a')
  await cache.set('c', 3) // evicts b, the least recently used
  assert.deepEqual(await cache.get('a'), { n: 1 })
  assert.equal(await cache.get('b'), undefined)
  await assert.rejects(async () => cache.get(42), CacheError) // keys are strings
  assert.equal(new InMemoryLRUCache().engine, expected) // a second cache: still one fallback warning
  let calls = 0
  const square = cached({ cache, ttl: 30 })(async function square(x) { calls++; return x * x })
  assert.equal(await square(4), 16)
  assert.equal(await square(4), 16)
  assert.equal(calls, 1)
  await cache.close()
  console.log('cjs ok, engine', cache.engine)
})().catch((err) => { console.error(err); process.exit(1) })
EOF
cat >"$APP/check.mjs" <<'EOF'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from 'astra-cache'
import { InMemoryLRUCache, createCache, cached } from 'astra-cache'

const require = createRequire(import.meta.url)
const cjs = require('astra-cache')
assert.match(import.meta.resolve('astra-cache'), /\/node_modules\/astra-cache\/dist\/esm\/index\.mjs$/)
// the ESM entry re-exports the CommonJS build: same names, same objects (one module instance)
const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort()
assert.deepEqual(names(esm), names(cjs))
assert.equal(InMemoryLRUCache, cjs.InMemoryLRUCache)
assert.equal(typeof createCache, 'function')
assert.equal(typeof cached, 'function')

const cache = new InMemoryLRUCache({ maxsize: 10 })
assert.equal(cache.engine, 'native')
await cache.set('k', 'v')
assert.equal(await cache.get('k'), 'v')
await cache.close()
const fromEnv = createCache({ CACHE_ENABLED: 'true', CACHE_BACKEND: 'memory', CACHE_MAXSIZE: '5' })
await fromEnv.set('x', 1)
assert.equal(await fromEnv.get('x'), 1)
await fromEnv.close()
console.log('esm ok, engine', cache.engine)
EOF
check "CommonJS require('astra-cache') runs on the native engine" bash -c "cd '$APP' && env -u NODE_PATH node check.cjs"
check "ESM import from 'astra-cache' runs on the native engine, same module as require" bash -c "cd '$APP' && env -u NODE_PATH node check.mjs"

write_quickstart() {
  # The README's quick start: the first ```ts block after a "Quick start" heading.
  node - "${PACK_TEST_README:-$ROOT/README.md}" "$APP/quickstart.mts" <<'EOF'
const fs = require('fs')
const [readme, out] = process.argv.slice(2)
const text = fs.existsSync(readme) ? fs.readFileSync(readme, 'utf8') : ''
const at = text.search(/^#+ .*quick ?start/im)
const block = at < 0 ? null : /```(?:ts|typescript)\n([\s\S]*?)```/.exec(text.slice(at))
if (!block) { console.error(`no \`\`\`ts block after a "Quick start" heading in ${readme}`); process.exit(1) }
fs.writeFileSync(out, block[1] + '\nexport {}\n')
console.log(block[1])
EOF
}
check "README.md has a TypeScript quick start" write_quickstart

cat >"$APP/types.mts" <<'EOF'
// What the type check proves besides the quick start: the types are real (not any),
// for both the ESM (`import`) and the CommonJS (`require`) entry.
import { InMemoryLRUCache, createCache, cached } from 'astra-cache'
const cache = new InMemoryLRUCache<{ id: number }>({ maxsize: 100, defaultTtl: 60 })
const engine: 'native' | 'js' = cache.engine
// @ts-expect-error engine is 'native' | 'js'
const wrong: number = cache.engine
// @ts-expect-error values are { id: number }
await cache.set('k', 'not an object')
const hit: { id: number } | undefined = await cache.get('k')
const fromEnv = createCache()
const twice = cached({ cache: fromEnv })(async (n: number) => n * 2)
const doubled: number = await twice(2)
export { engine, wrong, hit, doubled }
EOF
cat >"$APP/types.cts" <<'EOF'
import astra = require('astra-cache')
const cache = new astra.InMemoryLRUCache<string>()
const engine: 'native' | 'js' = cache.engine
// @ts-expect-error values are strings
void cache.set('k', 1)
export = engine
EOF
typecheck() {
  cd "$APP" || return 1
  local files='"types.mts", "types.cts"'
  [ -f quickstart.mts ] && files="\"quickstart.mts\", $files" # when the README has one (check above)
  cat >tsconfig.json <<EOF
{
  "compilerOptions": {
    "target": "ES2022", "module": "nodenext", "moduleResolution": "nodenext",
    "strict": true, "noEmit": true, "skipLibCheck": false, "types": ["node"]
  },
  "files": [$files]
}
EOF
  node_modules/.bin/tsc -p tsconfig.json --explainFiles >"$WORK/tsc.txt" || { grep 'error TS' "$WORK/tsc.txt"; return 1; }
  # the ESM files got the .d.mts types, the CJS file the .d.ts types
  grep -q '^node_modules/astra-cache/dist/esm/index.d.mts' "$WORK/tsc.txt" && grep -q '^node_modules/astra-cache/dist/index.d.ts' "$WORK/tsc.txt"
}
check "tsc --noEmit of the quick start and of typed uses (ESM and CJS entries)" typecheck

# ---------------------------------------------------------------- fallback and build from source
without_platform_package() { # runs "$@" with the platform package moved away
  mv "$APP/node_modules/astra-cache-$TRIPLE" "$WORK/platform-aside" || return 1
  "$@"; local rc=$?
  mv "$WORK/platform-aside" "$APP/node_modules/astra-cache-$TRIPLE"
  return "$rc"
}
js_fallback() {
  cd "$APP" || return 1
  env -u NODE_PATH -u ASTRA_CACHE_ENGINE EXPECT_ENGINE=js node check.cjs 2>"$WORK/fallback.err" || { cat "$WORK/fallback.err"; return 1; }
  cat "$WORK/fallback.err"
  [ "$(grep -cE '\[ASTRA_CACHE_[A-Z_]*FALLBACK\]' "$WORK/fallback.err")" -eq 1 ] || { echo "expected exactly one fallback warning"; return 1; }
}
check "without a loadable binary: the JS engine, with one warning" without_platform_package js_fallback

cargo_build() {
  # the documented from-source path: a plain release build at the workspace root
  cargo build --release --quiet && test -f target/release/libastra_cache_node.so \
    && cp target/release/libastra_cache_node.so "$WORK/astra-cache.$TRIPLE.node"
}
check "cargo build --release at the root builds the addon (target/release/libastra_cache_node.so)" cargo_build
cargo_addon_loads() {
  cd "$APP" && env -u NODE_PATH NAPI_RS_NATIVE_LIBRARY_PATH="$WORK/astra-cache.$TRIPLE.node" EXPECT_ENGINE=native node check.cjs
}
check "the cargo-built addon loads as the native engine (NAPI_RS_NATIVE_LIBRARY_PATH)" without_platform_package cargo_addon_loads

# ---------------------------------------------------------------- sizes, for docs/packaging.md
for f in "$TGZ"/*.tgz; do echo "# size $(basename "$f"): $(stat -c %s "$f") bytes"; done
echo "# size $BINARY: $(stat -c %s "$BINARY") bytes"
finish
