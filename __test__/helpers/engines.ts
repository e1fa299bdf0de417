import { loadNative, nativeLoadError } from '../../src/native'

export type EngineName = 'js' | 'native'

/**
 * Engines to test. The native engine must be present under CI (the build is part of
 * `npm install`); elsewhere a missing binary is reported, never counted as passing.
 */
export function enginesUnderTest(): EngineName[] {
  if (loadNative() !== null) return ['js', 'native']
  if (process.env.CI) throw new Error(`CI=true but the native engine did not load: ${String(nativeLoadError())}`)
  console.warn(`native engine not available, its tests are not run: ${String(nativeLoadError())}`)
  return ['js']
}
