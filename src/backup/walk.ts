/**
 * Why `name` cannot name a backed-up path in a snapshot (given with
 * `--name`), or undefined when it can: one path component that `get`
 * restores as it is.
 */
export function badName (name: string): string | undefined {
  if (name === '') return 'a name cannot be empty'
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'a name has no control characters'
  if (name.includes('/')) return 'a name is one path component, without /'
  if (name === '.' || name === '..') return 'a name cannot be . or ..'
  return undefined
}
