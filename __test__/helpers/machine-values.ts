/** A value that proves itself whole: its key, a version, and a body derived from both. */
export function tortureValue(key: string, ver: number): string {
  const len = (ver * 37) % 700
  let body = ''
  for (let j = 0; j < len; j++) body += String.fromCharCode(97 + ((ver + j) % 26))
  return `${key}|${ver}|${body}`
}

/** The version of a value made by tortureValue for `key`, or an error naming what is wrong. */
export function tortureVersion(key: string, value: string): number {
  const [k, ver] = value.split('|', 2)
  if (k !== key) throw new Error(`value under ${key} names ${k}`)
  const n = Number(ver)
  if (tortureValue(key, n) !== value) throw new Error(`torn value under ${key}: ${value.slice(0, 60)}`)
  return n
}
