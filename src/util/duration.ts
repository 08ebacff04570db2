import { z } from 'zod'

const SECOND_MS = 1000
const MINUTE_MS = 60 * SECOND_MS
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS

/**
 * Milliseconds per unit of a DURATION (contract v2). `mo` and `y` are fixed
 * approximations, 30 and 365 days: a duration is a plain length of time here,
 * which is what `every` needs. restic's `--keep-within` instead steps back
 * calendar months and years from the newest snapshot; backpack's `keepWithin`
 * subtracts these milliseconds (see backup/retention.ts), so `1y` there is
 * 365 days, not "the same date last year".
 */
export const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  s: SECOND_MS,
  min: MINUTE_MS,
  h: HOUR_MS,
  d: DAY_MS,
  w: 7 * DAY_MS,
  mo: 30 * DAY_MS,
  y: 365 * DAY_MS
}

/** Units `formatDuration` prints, largest first: exact ones only (no w, mo, y). */
const DISPLAY_UNITS: ReadonlyArray<[string, number]> = [['d', DAY_MS], ['h', HOUR_MS], ['min', MINUTE_MS], ['s', SECOND_MS]]

// a whole count and a lower-case unit, nothing else: `m` (minutes or months?)
// falls out because it is no unit, and `1.5h` or ` 1h` are refused rather
// than guessed at
const DURATION_PATTERN = /^(\d+)([a-z]+)$/

/**
 * Parse a DURATION: a whole, non-negative count with a unit (`90s`, `15min`,
 * `36h`, `7d`, `2w`, `6mo`, `1y`) into milliseconds. Returns undefined for
 * anything else, a bare `m` included. `0s` parses to 0; a caller for which
 * zero makes no sense (`every`) refuses it itself.
 */
export function parseDuration (text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text)
  if (match == null) return undefined
  const unit = Object.hasOwn(DURATION_UNITS_MS, match[2]) ? DURATION_UNITS_MS[match[2]] : undefined
  if (unit == null) return undefined
  const ms = Number(match[1]) * unit
  return Number.isSafeInteger(ms) ? ms : undefined
}

/**
 * A duration for people to read: the largest of d, h, min, s that divides it
 * exactly (`2d`, `36h`, `90s`), else milliseconds (`1500ms`). Never `mo` or
 * `y`, whose lengths are approximations, so `6mo` prints as `180d`.
 */
export function formatDuration (ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in milliseconds: ${ms}`)
  if (ms === 0) return '0s'
  for (const [name, size] of DISPLAY_UNITS) {
    if (ms % size === 0) return `${ms / size}${name}`
  }
  return `${ms}ms`
}

export const DURATION_EXPECTED = 'expected a duration: a number with a unit (90s, 15min, 36h, 7d, 2w, 6mo, 1y)'

/** Config value that is a DURATION string, parsed to milliseconds. */
export const durationSchema = z.string({ error: DURATION_EXPECTED }).transform((value, ctx) => {
  const ms = parseDuration(value)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: DURATION_EXPECTED })
    return z.NEVER
  }
  return ms
})
