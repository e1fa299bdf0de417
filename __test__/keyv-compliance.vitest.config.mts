// vitest runs only the Keyv compliance suite; every other test runs under ava.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__test__/keyv-compliance.vitest.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
