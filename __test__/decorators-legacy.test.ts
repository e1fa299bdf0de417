/**
 * Legacy `experimentalDecorators` form: the fixture is typechecked and compiled with that
 * flag by the TypeScript compiler API, written to a temp dir, then required and exercised.
 */
import test from 'ava'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import ts from 'typescript'
import type { Cache } from '../src/contract/cache'
import { CacheOptionError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'

const fixtureDir = path.join(__dirname, 'fixtures', 'legacy-decorators')
const srcDir = path.join(__dirname, '..', 'src')

interface UserServiceClass {
  new (db: Map<string, string>): {
    reads: number
    getUser(id: string): Promise<string | undefined>
    getUserByKey(id: string): Promise<string | undefined>
    updateUser(id: string, name: string): Promise<boolean>
  }
  count(kind: string): Promise<number>
}
interface Fixture {
  makeUserService(cache: Cache): UserServiceClass
  defineWithProperty(cache: Cache): unknown
}

function compileFixture(): { fixture: Fixture; cleanup(): void } {
  const configPath = path.join(fixtureDir, 'tsconfig.json')
  const config = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, fixtureDir)
  if (!parsed.options.experimentalDecorators) throw new Error('the fixture tsconfig must enable experimentalDecorators')
  const program = ts.createProgram(parsed.fileNames, parsed.options)
  // Only the fixture's own diagnostics: src/ is typechecked by the root tsconfig.
  const fixtureFile = program.getSourceFile(path.join(fixtureDir, 'user-service.ts'))!
  const diagnostics = [...program.getSyntacticDiagnostics(fixtureFile), ...program.getSemanticDiagnostics(fixtureFile)]
  if (diagnostics.length > 0) {
    throw new Error(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => fixtureDir, getNewLine: () => '\n' }))
  }
  const source = ts.sys.readFile(path.join(fixtureDir, 'user-service.ts'))!
  const { outputText } = ts.transpileModule(source, { compilerOptions: { ...parsed.options, noEmit: false } })
  // The compiled file lives in a temp dir: point its imports of src/ at the real sources (tsx loads them).
  const js = outputText.replaceAll('"../../../src/', `${JSON.stringify(srcDir + path.sep).slice(0, -1)}`)
  const dir = mkdtempSync(path.join(tmpdir(), 'astra-legacy-'))
  const file = path.join(dir, 'user-service.js')
  writeFileSync(file, js)
  return { fixture: require(file) as Fixture, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

const { fixture, cleanup } = compileFixture()
test.after.always(cleanup)

test('legacy decorator: the compiled output really uses the legacy __decorate helper', (t) => {
  const source = ts.sys.readFile(path.join(fixtureDir, 'user-service.ts'))!
  const { outputText } = ts.transpileModule(source, { compilerOptions: { experimentalDecorators: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS } })
  t.regex(outputText, /__decorate\(\[/)
  t.notRegex(outputText, /__esDecorate/)
})

test('legacy decorator: caches per Class.method + arguments and keeps this', async (t) => {
  const cache = new InMemoryLRUCache({ engine: 'js' })
  const UserService = fixture.makeUserService(cache)
  const service = new UserService(new Map([['1', 'Ada']]))
  t.is(await service.getUser('1'), 'Ada')
  t.is(await service.getUser('1'), 'Ada')
  t.is(service.reads, 1)
  t.true(await cache.has('UserService.getUser("1")'))
  t.is(await service.getUserByKey('1'), 'Ada')
  t.true(await cache.has('user:1'))
  t.is(await UserService.count('books'), 5)
  t.true(await cache.has('UserService.count("books")'))
})

test('legacy decorator: cacheInvalidate after success only, several keys', async (t) => {
  const cache = new InMemoryLRUCache({ engine: 'js' })
  const UserService = fixture.makeUserService(cache)
  const service = new UserService(new Map([['1', 'Ada']]))
  await service.getUser('1')
  await service.getUserByKey('1')
  await t.throwsAsync(service.updateUser('1', ''), { message: 'empty name' })
  t.true(await cache.has('user:1'), 'a failed write invalidates nothing')
  t.true(await service.updateUser('1', 'Grace'))
  t.false(await cache.has('user:1'))
  t.false(await cache.has('UserService.getUser("1")'))
  t.is(await service.getUser('1'), 'Grace')
  t.is(await service.getUserByKey('1'), 'Grace')
})

test('legacy decorator on a property is refused when the class is defined', (t) => {
  const cache = new InMemoryLRUCache({ engine: 'js' })
  t.throws(() => fixture.defineWithProperty(cache), { instanceOf: CacheOptionError, message: /must wrap a function or decorate a method/ })
})
