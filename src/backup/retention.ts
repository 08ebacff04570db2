import { formatDuration } from '../util/duration.js'

/**
 * Which snapshots `forget` keeps (contract v2: `--keep-*`, config
 * `retention`). Counts are whole numbers ≥ 0; `keepWithin` is milliseconds
 * (a parsed DURATION). A key left out takes no part; `keepLast: 0` is a
 * policy (that keeps only the newest), unlike restic where 0 means unset.
 */
export interface RetentionPolicy {
  keepLast?: number
  keepHourly?: number
  keepDaily?: number
  keepWeekly?: number
  keepMonthly?: number
  keepYearly?: number
  keepWithin?: number
}

export interface PolicySnapshot {
  id: string
  /** ms since the epoch */
  created: number
  sources: string[]
}

/** Both lists newest first; every snapshot given is in exactly one of them. */
export interface PolicyDecision {
  keep: Array<{ id: string, reasons: string[] }>
  remove: string[]
}

type CountKey = 'keepLast' | 'keepHourly' | 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly'

/** What identifies a snapshot's bucket; `index` is its place, newest first. */
type BucketKey = (date: Date, index: number) => number

const DAY_MS = 24 * 60 * 60 * 1000
const THURSDAY = 4

export const REASON_NEWEST = 'newest of its sources'
export const REASON_NO_POLICY = 'no policy'

const POLICY_KEYS: ReadonlyArray<keyof RetentionPolicy> = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'keepWithin']

// Calendar buckets in the local time of this machine, as restic reads them
// (its keys YYYYMMDDHH, YYYYMMDD, ISO YYYYWW, YYYYMM, YYYY); a day is
// 00:00-23:59, a week Monday to Sunday.
const hour: BucketKey = d => d.getFullYear() * 1_000_000 + (d.getMonth() + 1) * 10_000 + d.getDate() * 100 + d.getHours()
const day: BucketKey = d => d.getFullYear() * 10_000 + (d.getMonth() + 1) * 100 + d.getDate()
const month: BucketKey = d => d.getFullYear() * 100 + (d.getMonth() + 1)
const year: BucketKey = d => d.getFullYear()

/** ISO 8601 week as YYYYWW: the week's Thursday decides its year (30 Dec 2024 is in 2025's week 1). */
const isoWeek: BucketKey = d => {
  const thursday = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()))
  const weekday = thursday.getUTCDay() === 0 ? 7 : thursday.getUTCDay()
  thursday.setUTCDate(thursday.getUTCDate() + THURSDAY - weekday)
  const weekYear = thursday.getUTCFullYear()
  const dayOfYear = (thursday.getTime() - Date.UTC(weekYear, 0, 1)) / DAY_MS
  return weekYear * 100 + Math.floor(dayOfYear / 7) + 1
}

const BUCKETS: ReadonlyArray<{ key: CountKey, bucket: BucketKey, reason: string }> = [
  { key: 'keepLast', bucket: (_, index) => index, reason: 'last snapshot' },
  { key: 'keepHourly', bucket: hour, reason: 'hourly snapshot' },
  { key: 'keepDaily', bucket: day, reason: 'daily snapshot' },
  { key: 'keepWeekly', bucket: isoWeek, reason: 'weekly snapshot' },
  { key: 'keepMonthly', bucket: month, reason: 'monthly snapshot' },
  { key: 'keepYearly', bucket: year, reason: 'yearly snapshot' }
]

/** True when no `keep*` key is set: such a policy keeps everything. */
export function isEmptyPolicy (policy: RetentionPolicy): boolean {
  return POLICY_KEYS.every(key => policy[key] === undefined)
}

function checkPolicy (policy: RetentionPolicy): void {
  for (const key of POLICY_KEYS) {
    const value = policy[key]
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new RangeError(`retention ${key} must be a whole number ≥ 0, not ${value}`)
    }
  }
}

/** Newest first; the same time orders by id, so the result never depends on input order. */
function newestFirst (a: PolicySnapshot, b: PolicySnapshot): number {
  if (a.created !== b.created) return b.created - a.created
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** The snapshots of each set of sources (compared sorted), in the order given. */
function groupBySources (snapshots: PolicySnapshot[]): Iterable<PolicySnapshot[]> {
  const groups = new Map<string, PolicySnapshot[]>()
  for (const snapshot of snapshots) {
    const key = JSON.stringify([...snapshot.sources].sort())
    const group = groups.get(key)
    if (group == null) groups.set(key, [snapshot])
    else group.push(snapshot)
  }
  return groups.values()
}

/**
 * restic's ApplyPolicy for one group, newest first: each count keeps the
 * newest snapshot of that many distinct buckets, and while a count is not
 * used up the group's oldest snapshot is kept too ("oldest daily snapshot"),
 * to keep the longest history. `keepWithin` keeps what is strictly newer than
 * the group's newest snapshot minus that many milliseconds (restic steps back
 * calendar years, months and days instead, and ignores snapshots dated in the
 * future when it finds the newest). The newest is kept whatever the policy.
 */
function decideGroup (group: PolicySnapshot[], policy: RetentionPolicy, reasons: Map<string, string[]>): void {
  const within = policy.keepWithin
  const cutoff = within === undefined ? undefined : group[0].created - within
  const withinReason = within === undefined ? '' : `within ${formatDuration(within)}`
  const counters = BUCKETS.flatMap(b => {
    const count = policy[b.key]
    return count === undefined ? [] : [{ ...b, count, last: undefined as number | undefined }]
  })
  group.forEach((snapshot, index) => {
    const why: string[] = []
    if (cutoff !== undefined && snapshot.created > cutoff) why.push(withinReason)
    const date = new Date(snapshot.created)
    const oldest = index === group.length - 1
    for (const counter of counters) {
      if (counter.count === 0) continue
      const value = counter.bucket(date, index)
      if (value === counter.last && !oldest) continue
      why.push(value === counter.last ? `oldest ${counter.reason}` : counter.reason)
      counter.last = value
      counter.count--
    }
    if (index === 0 && why.length === 0) why.push(REASON_NEWEST)
    if (why.length > 0) reasons.set(snapshot.id, why)
  })
}

/**
 * Which snapshots a policy keeps, applied per set of sources (compared
 * sorted), as restic applies it per group. An empty policy keeps everything.
 */
export function applyRetention (snapshots: PolicySnapshot[], policy: RetentionPolicy): PolicyDecision {
  checkPolicy(policy)
  const sorted = [...snapshots].sort(newestFirst)
  const ids = new Set<string>()
  for (const { id } of sorted) {
    if (ids.has(id)) throw new RangeError(`snapshot ${id} is given twice`)
    ids.add(id)
  }
  const reasons = new Map<string, string[]>()
  if (isEmptyPolicy(policy)) {
    for (const snapshot of sorted) reasons.set(snapshot.id, [REASON_NO_POLICY])
  } else {
    for (const group of groupBySources(sorted)) decideGroup(group, policy, reasons)
  }
  const decision: PolicyDecision = { keep: [], remove: [] }
  for (const { id } of sorted) {
    const why = reasons.get(id)
    if (why != null) decision.keep.push({ id, reasons: why })
    else decision.remove.push(id)
  }
  return decision
}
