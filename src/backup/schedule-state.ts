import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { logger } from '@libp2p/logger'
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'

const log = logger('backpack:schedule')

/** Where the state of each scheduled backup lives: `/backpack/schedule/<scheduleKey>`. */
export const SCHEDULE_PREFIX = '/backpack/schedule'

/** How a run ended: the run resolved 'ok' or 'degraded', or it threw. */
export type RunOutcome = 'ok' | 'degraded' | 'failed'

/** What a restart needs to know of an entry's runs. */
export interface PersistedRun {
  /** When the last run ended, ms since the epoch */
  last: number
  result: RunOutcome
  /** The failure's message, one line */
  error?: string
  /** Failed runs in a row, 0 after a success: the backoff's exponent */
  failures: number
}

/**
 * Stable key of an entry: sha256 (hex) of its sorted, de-duplicated absolute
 * paths. The order in config and a trailing slash do not change it, so
 * reordering `paths` keeps the entry's history.
 */
export function scheduleKey (paths: string[]): string {
  const sources = [...new Set(paths.map(p => resolve(p)))].sort()
  return createHash('sha256').update(JSON.stringify(sources)).digest('hex')
}

function datastoreKey (key: string): Key {
  return new Key(`${SCHEDULE_PREFIX}/${key}`)
}

/**
 * The persisted state of an entry, or undefined when it never ran. A value
 * that does not parse (written by another version, or damaged) counts as
 * "never ran": the entry then runs soon after start, which is the safe side.
 */
export async function loadRun (datastore: Datastore, key: string): Promise<PersistedRun | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await datastore.get(datastoreKey(key))
  } catch (err: any) {
    if (err?.name !== 'NotFoundError') log.error('reading the schedule state %s failed: %s', key, err?.message)
    return undefined
  }
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes))
    if (!Number.isFinite(value?.last) || !['ok', 'degraded', 'failed'].includes(value?.result)) throw new Error('unexpected shape')
    return {
      last: value.last,
      result: value.result,
      ...(typeof value.error === 'string' ? { error: value.error } : {}),
      failures: Number.isSafeInteger(value.failures) && value.failures >= 0 ? value.failures : 0
    }
  } catch (err: any) {
    log.error('ignoring unreadable schedule state %s: %s', key, err?.message)
    return undefined
  }
}

/** Keep the state of an entry; JSON so that it can be read by hand when debugging. */
export async function saveRun (datastore: Datastore, key: string, run: PersistedRun): Promise<void> {
  await datastore.put(datastoreKey(key), new TextEncoder().encode(JSON.stringify(run)))
}

/**
 * Wait before retry number `failures` (1 for the first): `firstMs`, doubling,
 * capped at `everyMs` (a retry never waits longer than a regular run would)
 * and at `maxMs`.
 */
export function retryDelay (failures: number, firstMs: number, maxMs: number, everyMs: number): number {
  const doubled = firstMs * 2 ** Math.min(Math.max(failures - 1, 0), 52)
  return Math.min(doubled, maxMs, everyMs)
}

/** Units `formatEvery` uses, largest first; only exact ones (no months or years, whose length varies). */
const EVERY_UNITS: Array<[string, number]> = [
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['min', 60_000],
  ['s', 1000]
]

/**
 * An interval as a DURATION in the largest unit that divides it exactly
 * (`3600000` → `1h`, `90000` → `90s`); below a second, or not a whole
 * number of seconds, in `ms`.
 */
export function formatEvery (ms: number): string {
  for (const [unit, size] of EVERY_UNITS) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** One line of an error's message: status output and logs stay one line per entry. */
export function oneLine (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const first = message.split('\n').find(line => line.trim() !== '') ?? ''
  return first.trim() === '' ? (err as Error | undefined)?.name ?? 'Error' : first.trim()
}
