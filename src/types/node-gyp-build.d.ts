// node-gyp-build ships no types; only what src/native.ts uses.
declare module 'node-gyp-build' {
  /** Loads the addon found under `dir` (build/Release, then prebuilds/<platform>-<arch>/); throws when none matches. */
  function nodeGypBuild(dir: string): unknown
  export = nodeGypBuild
}
