// Placeholder until the duration module lands.
export const DURATION_EXPECTED = 'expected a duration: a number with a unit (90s, 15min, 36h, 7d, 2w, 6mo, 1y)'
const UNITS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, mo: 30 * 86_400_000, y: 365 * 86_400_000 }
export function parseDuration (text: string): number | undefined {
  const m = /^\s*(\d+)\s*([a-z]+)\s*$/.exec(text)
  if (m == null || UNITS[m[2]] == null) return undefined
  return Number(m[1]) * UNITS[m[2]]
}
