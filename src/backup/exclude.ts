// Placeholder until the gitignore-style excluder lands.
export interface Excluder { excludes: (path: string, isDirectory: boolean) => boolean }
export function createExcluder (patterns: string[]): Excluder {
  if (patterns.length > 0) throw new Error('excludes are not supported yet')
  return { excludes: () => false }
}
export function badPattern (pattern: string): string | undefined {
  return pattern.trim() === '' ? 'an empty pattern' : undefined
}
