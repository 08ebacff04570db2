import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { applyRetention, isEmptyPolicy, REASON_NEWEST, REASON_NO_POLICY, type PolicySnapshot, type RetentionPolicy } from '../../src/backup/retention.js'
import { parseDuration } from '../../src/util/duration.js'
import { RESTIC_CASES, RESTIC_SNAPSHOT_TIMES } from './fixtures/restic-policy.js'

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
const SOURCES = ['/home/me']

/** Run `fn` with the local time of `zone`: buckets are local, so every test picks one. */
function inZone<T> (zone: string, fn: () => T): T {
  const before = process.env.TZ
  process.env.TZ = zone
  try {
    return fn()
  } finally {
    if (before === undefined) delete process.env.TZ
    else process.env.TZ = before
  }
}

/** Snapshots named by their ISO time (UTC), so results read as times. */
function snaps (times: string[], sources = SOURCES): PolicySnapshot[] {
  return times.map(time => ({ id: time, created: Date.parse(time), sources }))
}

function kept (snapshots: PolicySnapshot[], policy: RetentionPolicy, zone = 'UTC'): string[] {
  return inZone(zone, () => applyRetention(snapshots, policy)).keep.map(k => k.id)
}

function reasonsOf (snapshots: PolicySnapshot[], policy: RetentionPolicy, zone = 'UTC'): Record<string, string[]> {
  return Object.fromEntries(inZone(zone, () => applyRetention(snapshots, policy)).keep.map(k => [k.id, k.reasons]))
}

describe('applyRetention as restic applies its policy', () => {
  // restic's own test: its snapshot list (UTC, with repeated times) and
  // golden results; ids in input order, so ties sort as restic's stable sort
  const list = RESTIC_SNAPSHOT_TIMES.map((time, i) => ({ id: `s${String(i).padStart(3, '0')}`, created: Date.parse(time), sources: SOURCES }))
  const timeOf = new Map(list.map(s => [s.id, s.created]))

  for (const { golden, policy, keep } of RESTIC_CASES) {
    it(`keeps what restic keeps for ${JSON.stringify(policy)} (golden file ${golden})`, () => {
      const ours: RetentionPolicy = { ...policy, keepWithin: policy.keepWithin === undefined ? undefined : parseDuration(String(policy.keepWithin)) }
      const decision = inZone('UTC', () => applyRetention(list, ours))
      const got = decision.keep.map(k => [timeOf.get(k.id), k.reasons])
      assert.deepEqual(got, keep.map(([time, reasons]) => [Date.parse(time), reasons]))
      assert.equal(decision.keep.length + decision.remove.length, list.length)
    })
  }
})

describe('applyRetention counts', () => {
  const days = snaps([
    '2024-03-05T18:00:00Z', '2024-03-05T12:00:00Z', '2024-03-05T06:00:00Z',
    '2024-03-04T20:00:00Z', '2024-03-04T08:00:00Z',
    '2024-03-02T09:00:00Z',
    '2024-03-01T23:00:00Z', '2024-03-01T01:00:00Z'
  ])

  it('keep-last 3 keeps the three newest', () => {
    assert.deepEqual(reasonsOf(days, { keepLast: 3 }), {
      '2024-03-05T18:00:00Z': ['last snapshot'],
      '2024-03-05T12:00:00Z': ['last snapshot'],
      '2024-03-05T06:00:00Z': ['last snapshot']
    })
  })

  it('keep-daily keeps the newest of each day, for the newest days that have one', () => {
    assert.deepEqual(kept(days, { keepDaily: 3 }), ['2024-03-05T18:00:00Z', '2024-03-04T20:00:00Z', '2024-03-02T09:00:00Z'])
  })

  it('keeps the oldest snapshot as well while a count is left over', () => {
    assert.deepEqual(reasonsOf(days, { keepDaily: 10 }), {
      '2024-03-05T18:00:00Z': ['daily snapshot'],
      '2024-03-04T20:00:00Z': ['daily snapshot'],
      '2024-03-02T09:00:00Z': ['daily snapshot'],
      '2024-03-01T23:00:00Z': ['daily snapshot'],
      '2024-03-01T01:00:00Z': ['oldest daily snapshot']
    })
  })

  it('keep-hourly keeps the newest of each hour', () => {
    const hours = snaps(['2024-03-05T18:59:00Z', '2024-03-05T18:01:00Z', '2024-03-05T17:59:00Z', '2024-03-05T16:30:00Z'])
    assert.deepEqual(kept(hours, { keepHourly: 2 }), ['2024-03-05T18:59:00Z', '2024-03-05T17:59:00Z'])
  })

  it('keep-weekly uses ISO weeks, Monday to Sunday, across the year boundary', () => {
    const weeks = snaps([
      '2025-01-05T10:00:00Z', // Sunday of 2025-W01
      '2024-12-30T10:00:00Z', // Monday of 2025-W01
      '2024-12-29T10:00:00Z', // Sunday of 2024-W52
      '2024-12-23T10:00:00Z', // Monday of 2024-W52
      '2024-12-22T10:00:00Z' // 2024-W51
    ])
    assert.deepEqual(kept(weeks, { keepWeekly: 2 }), ['2025-01-05T10:00:00Z', '2024-12-29T10:00:00Z'])
    assert.deepEqual(kept(weeks, { keepWeekly: 3 }), ['2025-01-05T10:00:00Z', '2024-12-29T10:00:00Z', '2024-12-22T10:00:00Z'])
  })

  it('keep-weekly knows week 53 spans the new year', () => {
    const weeks = snaps([
      '2021-01-04T10:00:00Z', // 2021-W01
      '2021-01-03T10:00:00Z', // Sunday of 2020-W53
      '2020-12-31T10:00:00Z', // Thursday of 2020-W53
      '2020-12-27T10:00:00Z' // 2020-W52
    ])
    assert.deepEqual(kept(weeks, { keepWeekly: 3 }), ['2021-01-04T10:00:00Z', '2021-01-03T10:00:00Z', '2020-12-27T10:00:00Z'])
  })

  it('keep-monthly and keep-yearly keep the newest of each month and year', () => {
    const months = snaps(['2024-02-10T00:00:00Z', '2024-02-01T00:00:00Z', '2024-01-31T23:00:00Z', '2023-12-31T00:00:00Z', '2023-06-01T00:00:00Z', '2022-01-01T00:00:00Z'])
    assert.deepEqual(kept(months, { keepMonthly: 3 }), ['2024-02-10T00:00:00Z', '2024-01-31T23:00:00Z', '2023-12-31T00:00:00Z'])
    assert.deepEqual(kept(months, { keepYearly: 2 }), ['2024-02-10T00:00:00Z', '2023-12-31T00:00:00Z'])
    assert.deepEqual(reasonsOf(months, { keepYearly: 5 })['2022-01-01T00:00:00Z'], ['yearly snapshot'])
  })

  it('combines counts, each one counting the snapshots it keeps', () => {
    assert.deepEqual(reasonsOf(days, { keepLast: 2, keepDaily: 2, keepWeekly: 1 }), {
      '2024-03-05T18:00:00Z': ['last snapshot', 'daily snapshot', 'weekly snapshot'],
      '2024-03-05T12:00:00Z': ['last snapshot'],
      '2024-03-04T20:00:00Z': ['daily snapshot']
    })
  })
})

describe('applyRetention keep-within', () => {
  const list = snaps(['2024-03-10T12:00:00Z', '2024-03-09T12:00:01Z', '2024-03-09T12:00:00Z', '2024-03-01T00:00:00Z'])

  it('keeps what is newer than the newest snapshot minus the duration, not now minus it', () => {
    assert.deepEqual(reasonsOf(list, { keepWithin: DAY }), {
      '2024-03-10T12:00:00Z': ['within 1d'],
      '2024-03-09T12:00:01Z': ['within 1d']
    })
  })

  it('adds to the counts', () => {
    assert.deepEqual(reasonsOf(list, { keepWithin: 36 * HOUR, keepLast: 1, keepMonthly: 1 }), {
      '2024-03-10T12:00:00Z': ['within 36h', 'last snapshot', 'monthly snapshot'],
      '2024-03-09T12:00:01Z': ['within 36h'],
      '2024-03-09T12:00:00Z': ['within 36h']
    })
  })
})

describe('applyRetention buckets in local time', () => {
  it('takes the day from the local clock', () => {
    const list = snaps(['2024-01-02T10:00:00Z', '2024-01-01T23:30:00Z', '2024-01-01T22:30:00Z'])
    // in Berlin 23:30Z is already 2 January, so 22:30Z is the newest of 1 January
    assert.deepEqual(kept(list, { keepDaily: 2 }, 'Europe/Berlin'), ['2024-01-02T10:00:00Z', '2024-01-01T22:30:00Z'])
    assert.deepEqual(kept(list, { keepDaily: 2 }, 'UTC'), ['2024-01-02T10:00:00Z', '2024-01-01T23:30:00Z'])
  })

  it('takes the hour from the wall clock, which repeats when summer time ends', () => {
    // Berlin, 27 October 2024: 00:10Z and 01:10Z are both 02:10 local
    const list = snaps(['2024-10-27T02:10:00Z', '2024-10-27T01:10:00Z', '2024-10-27T00:10:00Z', '2024-10-26T23:10:00Z'])
    assert.deepEqual(kept(list, { keepHourly: 3 }, 'Europe/Berlin'), ['2024-10-27T02:10:00Z', '2024-10-27T01:10:00Z', '2024-10-26T23:10:00Z'])
    assert.deepEqual(kept(list, { keepHourly: 3 }, 'UTC'), ['2024-10-27T02:10:00Z', '2024-10-27T01:10:00Z', '2024-10-27T00:10:00Z'])
  })
})

describe('applyRetention per set of sources', () => {
  const home = snaps(['2024-03-05T10:00:00Z', '2024-03-04T10:00:00Z', '2024-03-03T10:00:00Z'], ['/home/me', '/etc'])
  const etcFirst = snaps(['2024-03-02T10:00:00Z'], ['/etc', '/home/me'])
  const photos = snaps(['2024-03-01T10:00:00Z', '2024-02-01T10:00:00Z'], ['/photos'])

  it('applies the policy to each set on its own, the order of sources aside', () => {
    assert.deepEqual(kept([...home, ...etcFirst, ...photos], { keepLast: 1 }), ['2024-03-05T10:00:00Z', '2024-03-01T10:00:00Z'])
    assert.deepEqual(kept([...home, ...etcFirst, ...photos], { keepWithin: 2 * DAY }), ['2024-03-05T10:00:00Z', '2024-03-04T10:00:00Z', '2024-03-01T10:00:00Z'])
  })

  it('always keeps the newest of each set, even when the policy keeps none', () => {
    const all = [...home, ...photos]
    for (const policy of [{ keepLast: 0 }, { keepDaily: 0, keepYearly: 0 }, { keepWithin: 0 }]) {
      const decision = inZone('UTC', () => applyRetention(all, policy))
      assert.deepEqual(decision.keep, [
        { id: '2024-03-05T10:00:00Z', reasons: [REASON_NEWEST] },
        { id: '2024-03-01T10:00:00Z', reasons: [REASON_NEWEST] }
      ], JSON.stringify(policy))
      assert.deepEqual(decision.remove, ['2024-03-04T10:00:00Z', '2024-03-03T10:00:00Z', '2024-02-01T10:00:00Z'])
    }
  })
})

describe('applyRetention input', () => {
  const list = snaps(['2024-03-05T10:00:00Z', '2024-03-04T10:00:00Z', '2024-03-04T09:00:00Z', '2024-02-01T10:00:00Z', '2023-01-01T10:00:00Z'])
  const policy = { keepLast: 1, keepDaily: 2, keepMonthly: 2 }

  it('does not depend on the order snapshots come in', () => {
    const expected = inZone('UTC', () => applyRetention(list, policy))
    assert.deepEqual(expected.remove, ['2024-03-04T09:00:00Z', '2023-01-01T10:00:00Z'])
    const orders = [[...list].reverse(), [list[2], list[0], list[4], list[1], list[3]], [list[3], list[4], list[0], list[2], list[1]]]
    for (const order of orders) assert.deepEqual(inZone('UTC', () => applyRetention(order, policy)), expected)
  })

  it('orders snapshots of the same time by id', () => {
    const created = Date.parse('2024-03-05T10:00:00Z')
    const tied = ['c', 'a', 'b'].map(id => ({ id, created, sources: SOURCES }))
    assert.deepEqual(applyRetention(tied, { keepLast: 1 }), { keep: [{ id: 'a', reasons: ['last snapshot'] }], remove: ['b', 'c'] })
    assert.deepEqual(applyRetention([...tied].reverse(), { keepLast: 1 }).keep[0].id, 'a')
  })

  it('does not change the list it is given', () => {
    const copy = structuredClone(list).reverse()
    const before = structuredClone(copy)
    applyRetention(copy, policy)
    assert.deepEqual(copy, before)
  })

  it('keeps everything under an empty policy', () => {
    const decision = applyRetention(list, {})
    assert.deepEqual(decision.keep, list.map(s => ({ id: s.id, reasons: [REASON_NO_POLICY] })))
    assert.deepEqual(decision.remove, [])
    assert.deepEqual(applyRetention([], policy), { keep: [], remove: [] })
  })

  it('refuses counts that are no whole number and ids given twice', () => {
    for (const bad of [{ keepLast: -1 }, { keepDaily: 1.5 }, { keepWeekly: Number.NaN }, { keepWithin: -1 }, { keepYearly: Number.POSITIVE_INFINITY }]) {
      assert.throws(() => applyRetention(list, bad), RangeError, JSON.stringify(bad))
    }
    assert.throws(() => applyRetention([...list, { ...list[0], created: 0 }], policy), /given twice/)
  })
})

describe('isEmptyPolicy', () => {
  it('is true only when no key is set', () => {
    assert.equal(isEmptyPolicy({}), true)
    assert.equal(isEmptyPolicy({ keepLast: undefined, keepWithin: undefined }), true)
    assert.equal(isEmptyPolicy({ keepLast: 0 }), false)
    assert.equal(isEmptyPolicy({ keepWithin: 0 }), false)
    assert.equal(isEmptyPolicy({ keepYearly: 3 }), false)
  })
})
