const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4
}

/**
 * Parse a size: a byte count or a number with a unit (`500MB`, `10GiB`, `0`).
 * Returns undefined when the text is not a size.
 */
export function parseSize (text: string | number): number | undefined {
  if (typeof text === 'number') {
    return Number.isSafeInteger(text) && text >= 0 ? text : undefined
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  if (match == null) return undefined
  const unit = UNITS[match[2].toLowerCase()]
  if (unit == null) return undefined
  const bytes = Math.floor(Number(match[1]) * unit)
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

/** Human-readable size with binary units: `1.5 MiB`. */
export function formatSize (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let i = 0
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024
    i++
  }
  return i === 0 ? `${value} B` : `${value.toFixed(1)} ${units[i]}`
}
