#!/usr/bin/env bash
# Runs Keyv's official compliance suite (@keyv/test-suite, under vitest) against the astra-cache
# Keyv adapter, and ends with one line "keyv: N passed, M failed". Exit status 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
npx vitest run --config __test__/keyv-compliance.vitest.config.mts --reporter=default --reporter=json --outputFile.json="$report"
status=$?
if [ -s "$report" ]; then
  counts=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites || 0))' "$report")
  passed=${counts% *}; failed=${counts#* }
else
  passed=0; failed=1
fi
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "keyv: ${passed} passed, ${failed} failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
