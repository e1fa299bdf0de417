/** Escapes the characters SCAN MATCH treats specially (`* ? [ ] \ ^ -`), so a prefix matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\^-]/g, (ch) => `\\${ch}`)
}
