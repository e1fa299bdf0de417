#!/usr/bin/env bash
# Install-path test: a fresh clone's lifecycle scripts build a working package, and it works
# from every way a user gets it, each in a project of its own outside the repo.
#
#   1. git clone of HEAD (no dist/, no binary) -> `npm install` (its prepare script builds the
#      native addon from the clone's Rust sources and dist/ from its TypeScript);
#   2. a plain `cargo build --release` in the clone builds the addon (docs/packaging.md);
#   3. `npm pack` in the clone -> arethetypeswrong and `publint --strict` on the tarball ->
#      installed into an empty project: CommonJS and ESM use of every subpath of the exports
#      map on the native engine, `tsc` under node10, node16 (+ every ```ts example of the README
#      and docs/, the quick start first) and
#      bundler resolution (scripts/consumer/check.js);
#   4. `npm install git+file://<clone>#<commit>` (npm clones, prepares and packs it itself);
#   5. `npm link` of the clone;
#   6. the release's shape: the tarball without the binary plus the optionalDependencies of
#      scripts/release-manifest.js, next to the platform package -> native engine from the
#      platform package; the JS engine with one warning without it; the addon of 2 loads.
#
# What is reused, and why it is honest: npm's cache (--prefer-offline; the packages are the
# lockfile's either way) and cargo's target directory (CARGO_TARGET_DIR, default the repo's
# target/): third-party crates compiled there are reused, while the clone's own crates are
# compiled from the clone's files (its fresh mtimes make cargo rebuild them; check 3 reads
# cargo's "Compiling astra-cache-node (<clone>/crates/node)" line).
#
# Prints one TAP-style line per check ("ok N - ..." / "not ok N - ...") and exits non-zero if
# any failed. The clone is of the committed HEAD: uncommitted changes are not tested (a note
# says so). PACK_TEST_KEEP=1 keeps the temporary directory.
# shellcheck disable=SC2317 # the check functions are called through check()
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT" || exit 1
# the user's view: nothing from this shell chooses the engine, the binary or skips a build
unset NODE_PATH ASTRA_CACHE_ENGINE NAPI_RS_NATIVE_LIBRARY_PATH ASTRA_CACHE_SKIP_NATIVE_BUILD ASTRA_CACHE_PREBUILDS_ROOT

WORK="$(mktemp -d "${TMPDIR:-/tmp}/astra-pack-test.XXXXXX")"
if [ "${PACK_TEST_KEEP:-}" = 1 ]; then echo "# work dir: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
LOG="$WORK/log"; mkdir -p "$LOG"

n=0; failed=0
check() { # check "description" command...: runs the command in a subshell from the repo root; output shown on failure
  local desc="$1"; shift
  n=$((n + 1))
  local out="$LOG/$n.log" start=$SECONDS
  if (cd "$ROOT" && "$@") >"$out" 2>&1; then
    echo "ok $n - $desc ($((SECONDS - start)) s)"
  else
    echo "not ok $n - $desc ($((SECONDS - start)) s)"; failed=$((failed + 1))
    sed 's/^/#   /' "$out" | tail -40
    return 1
  fi
}
finish() { echo "# pack-test: $((n - failed)) passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export npm_config_loglevel=warn

VERSION="$(node -p "require('./package.json').version")"
TRIPLE=linux-x64-gnu # the platform package this machine can load
BINARY="native/astra-cache.$TRIPLE.node"
COMMIT="$(git rev-parse HEAD)"
CLONE="$WORK/clone"; TGZ="$WORK/tarballs"; mkdir -p "$TGZ/release"
CONSUMER="$CLONE/scripts/consumer/check.js" # the clone's copy: what is tested is the commit
[ -z "$(git status --porcelain --untracked-files=no)" ] || echo "# note: uncommitted changes in $ROOT are not in the clone"

# ---------------------------------------------------------------- 1. fresh clone, npm install
clone() {
  git clone -q --no-checkout "$ROOT" "$CLONE" && git -C "$CLONE" checkout -q --detach "$COMMIT" \
    && ! test -e "$CLONE/dist" && ! compgen -G "$CLONE/native/*.node"
}
check "git clone of $COMMIT: no dist/, no binary" clone || finish
install_clone() {
  cd "$CLONE" && npm install --foreground-scripts >"$WORK/clone-install.log" 2>&1 || { tail -40 "$WORK/clone-install.log"; return 1; }
}
check "npm install in the clone" install_clone || finish
built_by_prepare() {
  cd "$CLONE" && ls -l dist/index.js dist/esm/index.mjs "$BINARY" \
    && grep -F "Compiling astra-cache-node v$VERSION ($CLONE/crates/node)" "$WORK/clone-install.log"
}
check "its prepare script built dist/ and $BINARY from the clone's sources" built_by_prepare || finish

# ---------------------------------------------------------------- 2. build from source with cargo alone
cargo_build() {
  # the documented from-source path: a plain release build at the workspace root (here into
  # the shared target directory; target/release/ without CARGO_TARGET_DIR)
  cd "$CLONE" && cargo build --release --quiet && test -f "$CARGO_TARGET_DIR/release/libastra_cache_node.so" \
    && cp "$CARGO_TARGET_DIR/release/libastra_cache_node.so" "$WORK/astra-cache.$TRIPLE.node"
}
check "cargo build --release in the clone builds the addon (release/libastra_cache_node.so)" cargo_build

# ---------------------------------------------------------------- 3. npm pack, installed into an empty project
TS_VERSION="$(cd "$CLONE" && node -p "require('typescript/package.json').version")"
TYPES_NODE_VERSION="$(cd "$CLONE" && node -p "require('@types/node/package.json').version")"
# what the docs' examples import besides astra-cache (`check.js deps`: the optional peers a user
# of /redis, /tiered, /prometheus and /keyv installs, and cache-manager), at the lockfile's
# versions (read from the files: keyv's exports map does not export its package.json)
# shellcheck disable=SC2046 # deps is a space-separated list of package names
OPTIONAL_PEERS="$(cd "$CLONE" && node -p "process.argv.slice(1).map((p) => p + '@' + JSON.parse(require('fs').readFileSync('node_modules/' + p + '/package.json', 'utf8')).version).join(' ')" $(node "$CONSUMER" deps))"
new_project() { # new_project <dir>: an empty project, nothing installed
  mkdir -p "$1" && printf '{ "name": "consumer", "version": "1.0.0", "private": true }\n' >"$1/package.json"
}
install_into() { # install_into <dir> <spec>...: npm install with the consumer's TypeScript (CONSUMER_TS, default the repo's), then the user files
  local dir="$1"; shift
  # shellcheck disable=SC2086 # OPTIONAL_PEERS is a list of package specs
  new_project "$dir" && cd "$dir" && npm install "$@" "typescript@${CONSUMER_TS:-$TS_VERSION}" "@types/node@$TYPES_NODE_VERSION" $OPTIONAL_PEERS \
    && node "$CONSUMER" setup "$dir" "$CLONE/README.md"
}
uses() { # uses <dir> [VAR=value...]: CommonJS then ESM use of every subpath
  local dir="$1"; shift
  cd "$dir" && env "$@" node use.cjs && env "$@" node use.mjs
}
typechecks() { # typechecks <dir>: tsc under every resolution mode
  for mode in node10 node16 bundler; do node "$CONSUMER" tsc "$1" "$mode" || return 1; done
}
lint_tarball() { # lint_tarball <tgz>: arethetypeswrong (every resolution mode) and publint --strict, both silent
  cd "$CLONE" || return 1
  node_modules/.bin/attw "$1" --format ascii >"$WORK/attw.txt" 2>&1; local attw=$?
  cat "$WORK/attw.txt"
  node_modules/.bin/publint --strict "$1" >"$WORK/publint.txt" 2>&1; local publint=$?
  cat "$WORK/publint.txt"
  [ "$attw" -eq 0 ] && grep -q 'No problems found' "$WORK/attw.txt" && [ "$publint" -eq 0 ] && grep -q 'All good!' "$WORK/publint.txt"
}

pack_clone() { cd "$CLONE" && npm pack --foreground-scripts --pack-destination "$TGZ" >"$WORK/pack.log" 2>&1 || { tail -40 "$WORK/pack.log"; return 1; }; }
check "npm pack in the clone (prepare runs again)" pack_clone || finish
tarball_contents() { # tarball_contents <tgz> <binary expected: yes|no>
  tar tzf "$1" | sed 's|^package/||' >"$WORK/listing" || return 1
  node - "$WORK/listing" "$CLONE/package.json" "$2" "$BINARY" <<'EOF'
const [listing, manifestPath, withBinary, binary] = process.argv.slice(2)
const files = require('fs').readFileSync(listing, 'utf8').split('\n').filter(Boolean)
const m = require(manifestPath)
const targets = [m.main, m.types, ...Object.values(m.typesVersions['*']).flat()]
const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(walk))
walk(m.exports)
const must = [...new Set(targets.map((t) => t.replace(/^\.\//, '')))].concat('README.md', 'LICENSE', 'native/index.js', 'native/index.d.ts')
if (withBinary === 'yes') must.push(binary)
const missing = must.filter((f) => !files.includes(f))
const stray = files.filter((f) => /^(src|__test__|crates|target|bench|scripts|node_modules)\/|\.tsbuildinfo$/.test(f) || (withBinary !== 'yes' && f.endsWith('.node')))
console.log(`${files.length} files`)
if (missing.length || stray.length) { console.error({ missing, stray }); process.exit(1) }
EOF
}
check "the tarball holds every entry, types, the loader, LICENSE and the clone's binary; no sources" tarball_contents "$TGZ/astra-cache-$VERSION.tgz" yes
check "arethetypeswrong and publint --strict: no problem, no warning" lint_tarball "$TGZ/astra-cache-$VERSION.tgz"
if check "npm install of the tarball into an empty project" install_into "$WORK/app" "$TGZ/astra-cache-$VERSION.tgz"; then
  check "tarball: require and import of every subpath, on the native engine from the tarball" uses "$WORK/app"
  check "tarball: tsc under node10, node16 (and every ts example of the README and docs/) and bundler resolution" typechecks "$WORK/app"
fi
OLDEST_TS=5.0.4 # the oldest TypeScript the typings promise (docs/packaging.md): same files, same checks
install_oldest_ts() {
  CONSUMER_TS=$OLDEST_TS install_into "$WORK/app-ts-oldest" "$TGZ/astra-cache-$VERSION.tgz" \
    && test "$(cd "$WORK/app-ts-oldest" && node_modules/.bin/tsc --version)" = "Version $OLDEST_TS"
}
if check "npm install of the tarball beside TypeScript $OLDEST_TS" install_oldest_ts; then
  check "tarball: TypeScript $OLDEST_TS under node10, node16 (with the docs' examples) and bundler resolution" typechecks "$WORK/app-ts-oldest"
fi

# ---------------------------------------------------------------- 4. install from a git URL
install_git() {
  new_project "$WORK/app-git" && cd "$WORK/app-git" && npm install "git+file://$CLONE#$COMMIT" \
    && node "$CONSUMER" setup "$WORK/app-git" && ls -l node_modules/astra-cache/dist/index.js "node_modules/astra-cache/$BINARY"
}
check "npm install git+file://<clone>#<commit>: npm's own clone is prepared (dist/, binary) without any approval" install_git \
  && check "git URL: require and import of every subpath, on the native engine" uses "$WORK/app-git"

# ---------------------------------------------------------------- 5. npm link
link_clone() {
  # a global prefix of its own, so the machine's global packages are not touched
  export npm_config_prefix="$WORK/global"
  (cd "$CLONE" && npm link) && new_project "$WORK/app-link" && cd "$WORK/app-link" \
    && npm install "typescript@$TS_VERSION" "@types/node@$TYPES_NODE_VERSION" && npm link astra-cache \
    && test "$(realpath node_modules/astra-cache)" = "$(realpath "$CLONE")" && node "$CONSUMER" setup "$WORK/app-link"
}
if check "npm link of the clone, then npm link astra-cache in a project" link_clone; then
  check "npm link: require and import of every subpath resolve into the clone, native engine" uses "$WORK/app-link" "EXPECT_PACKAGE_DIR=$CLONE"
  check "npm link: tsc under node16 resolution" node "$CONSUMER" tsc "$WORK/app-link" node16
fi

# ---------------------------------------------------------------- 6. the release's shape: platform package
pack_release() {
  # as release.yml: no binary in the root package (napi artifacts moves each into npm/<platform>),
  # the manifest of scripts/release-manifest.js, and the platform package with the binary
  mkdir -p "$WORK/stage" && tar xzf "$TGZ/astra-cache-$VERSION.tgz" -C "$WORK/stage" && rm "$WORK/stage/package/$BINARY" \
    && node "$CLONE/scripts/release-manifest.js" "$WORK/stage/package/package.json" \
    && (cd "$TGZ/release" && npm pack --ignore-scripts "$WORK/stage/package") \
    && cp -r "$CLONE/npm/$TRIPLE" "$WORK/platform" && cp "$CLONE/$BINARY" "$WORK/platform/" \
    && (cd "$TGZ/release" && npm pack --ignore-scripts "$WORK/platform")
}
check "release shape: npm pack astra-cache (no binary, release optionalDependencies) and astra-cache-$TRIPLE" pack_release || finish
check "release tarball: every entry, no binary, no sources" tarball_contents "$TGZ/release/astra-cache-$VERSION.tgz" no
check "release tarball: arethetypeswrong and publint --strict" lint_tarball "$TGZ/release/astra-cache-$VERSION.tgz"
install_release() {
  # The platform tarball is named on the command line, so it satisfies astra-cache's
  # optionalDependency on astra-cache-linux-x64-gnu@<exact version> without the registry.
  # The other platform packages are optional: npm asks the registry for them, gets 404
  # (until a release publishes them; after it, their os/cpu fields make npm skip them)
  # and goes on, as it would on a user's machine.
  install_into "$WORK/app-release" "$TGZ/release/astra-cache-$TRIPLE-$VERSION.tgz" "$TGZ/release/astra-cache-$VERSION.tgz" \
    && npm ls --all "astra-cache-$TRIPLE" && test -f "node_modules/astra-cache-$TRIPLE/astra-cache.$TRIPLE.node" \
    && ! compgen -G "node_modules/astra-cache/native/*.node"
}
check "release: both tarballs installed; the optionalDependency resolves to the platform package" install_release || finish
check "release: require and import of every subpath, native engine from the platform package" uses "$WORK/app-release"

without_platform_package() { # runs "$@" with the platform package moved away
  mv "$WORK/app-release/node_modules/astra-cache-$TRIPLE" "$WORK/platform-aside" || return 1
  "$@"; local rc=$?
  mv "$WORK/platform-aside" "$WORK/app-release/node_modules/astra-cache-$TRIPLE"
  return "$rc"
}
js_fallback() {
  cd "$WORK/app-release" || return 1
  EXPECT_ENGINE=js node use.cjs 2>"$WORK/fallback.err" || { cat "$WORK/fallback.err"; return 1; }
  cat "$WORK/fallback.err"
  [ "$(grep -cE '\[ASTRA_CACHE_[A-Z_]*FALLBACK\]' "$WORK/fallback.err")" -eq 1 ] || { echo "expected exactly one fallback warning"; return 1; }
}
check "release, without a loadable binary: the JS engine, with one warning" without_platform_package js_fallback
cargo_addon_loads() {
  cd "$WORK/app-release" && NAPI_RS_NATIVE_LIBRARY_PATH="$WORK/astra-cache.$TRIPLE.node" EXPECT_ENGINE=native node use.cjs
}
check "release, the cargo-built addon instead: loads as the native engine (NAPI_RS_NATIVE_LIBRARY_PATH)" without_platform_package cargo_addon_loads

# ---------------------------------------------------------------- sizes, for docs/packaging.md
size() { echo "# size $1 $(basename "$2"): $(stat -c %s "$2") bytes ($(tar tzf "$2" | grep -vc '/$') files)"; }
size "(packed from the clone)" "$TGZ/astra-cache-$VERSION.tgz"
for f in "$TGZ"/release/*.tgz; do size "(release)" "$f"; done
echo "# size $BINARY: $(stat -c %s "$CLONE/$BINARY") bytes"
finish
