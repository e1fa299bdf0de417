#!/usr/bin/env bash
# CI on runners without redis-server (macOS, Windows, Alpine, arm64): checks that the native
# engine loads from native/ (the binary CI built for this platform), then runs every ava
# file that does not start a redis-server. The Redis tests run in the Linux `.ci/run` job.
set -euo pipefail
cd "$(dirname "$0")/.."
ls native/*.node
npx tsx -e "
const { InMemoryLRUCache } = require('./src/index.ts')
const engine = new InMemoryLRUCache().engine
console.log('engine:', engine)
if (engine !== 'native') process.exit(1)
"
files="$(grep -L redis-server __test__/*.test.ts)" # test file names have no spaces
echo "ava files: $files"
# shellcheck disable=SC2086 # split into one argument per file
npx ava $files
