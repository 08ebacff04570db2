import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { Scheduler, scheduleKey } from '../../src/backup/schedule.js'
import { formatEvery, retryDelay } from '../../src/backup/schedule-state.js'
import { delay } from '../../src/util/concurrency.js'
import type { RunResult, ScheduledBackup, SchedulerInit } from '../../src/backup/schedule.js'

const A = ['/data/a']
const B = ['/data/b']

/** A run function that records each call; `behave` decides how call n (0-based) goes. */
function recorder (behave: (n: number, signal: AbortSignal) => Promise<RunResult> = async () => 'ok'): {
  run: (entry: ScheduledBackup, signal: AbortSignal) => Promise<RunResult>
  starts: number[]
  ends: number[]
  paths: string[][]
  active: number
  maxActive: number
  signals: AbortSignal[]
} {
  const rec = {
    starts: [] as number[],
    ends: [] as number[],
    paths: [] as string[][],
    signals: [] as AbortSignal[],
    active: 0,
    maxActive: 0,
    run: async (entry: ScheduledBackup, signal: AbortSignal): Promise<RunResult> => {
      const n = rec.starts.length
      rec.starts.push(Date.now())
      rec.paths.push(entry.paths)
      rec.signals.push(signal)
      rec.active++
      rec.maxActive = Math.max(rec.maxActive, rec.active)
      try {
        return await behave(n, signal)
      } finally {
        rec.active--
        rec.ends.push(Date.now())
      }
    }
  }
  return rec
}

async function persist (datastore: MemoryDatastore, paths: string[], state: object): Promise<void> {
  await datastore.put(new Key(`/backpack/schedule/${scheduleKey(paths)}`), new TextEncoder().encode(JSON.stringify(state)))
}

/** A started scheduler, stopped by the test's `finally`. */
async function started (run: ReturnType<typeof recorder>, init: SchedulerInit, datastore = new MemoryDatastore()): Promise<Scheduler> {
  const scheduler = new Scheduler({ datastore, run: run.run }, { missedRunDelayMs: 0, ...init })
  await scheduler.start()
  return scheduler
}

describe('scheduleKey', () => {
  it('depends on the set of absolute paths, not on their order or spelling', () => {
    assert.equal(scheduleKey(['/a', '/b']), scheduleKey(['/b/', '/a', '/a']))
    assert.notEqual(scheduleKey(['/a']), scheduleKey(['/a', '/b']))
    assert.match(scheduleKey(['/a']), /^[0-9a-f]{64}$/)
  })

  it('retryDelay doubles from the first delay and is capped by every and the maximum; formatEvery picks an exact unit', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(n => retryDelay(n, 30, 1000, 100)), [30, 60, 100, 100, 100])
    assert.deepEqual([1, 2, 3, 4].map(n => retryDelay(n, 30, 70, 10_000)), [30, 60, 70, 70])
    assert.deepEqual([3_600_000, 90_000, 86_400_000 * 14, 250].map(formatEvery), ['1h', '90s', '2w', '250ms'])
  })
})

describe('Scheduler', () => {
  it('runs an entry every interval, measured from the end of the last run', async () => {
    const rec = recorder()
    const scheduler = await started(rec, { backups: [{ paths: A, every: 60 }] })
    try {
      await delay(400)
    } finally {
      await scheduler.stop()
    }
    assert.ok(rec.starts.length >= 3 && rec.starts.length <= 8, `${rec.starts.length} runs`)
    for (let i = 1; i < rec.starts.length; i++) assert.ok(rec.starts[i] - rec.ends[i - 1] >= 55, `gap ${rec.starts[i] - rec.ends[i - 1]} ms`)
  })

  it('runs a missed run soon after start, and waits for a recent one to be due', async () => {
    const missed = new MemoryDatastore()
    await persist(missed, A, { last: Date.now() - 2 * 3600_000, result: 'ok', failures: 0 })
    const recent = new MemoryDatastore()
    const last = Date.now() - 60_000 + 200
    await persist(recent, A, { last, result: 'ok', failures: 0 })

    const late = recorder()
    const onTime = recorder()
    const a = await started(late, { backups: [{ paths: A, every: 3600_000 }], missedRunDelayMs: 80 }, missed)
    const b = await started(onTime, { backups: [{ paths: A, every: 60_000 }], missedRunDelayMs: 10 }, recent)
    try {
      assert.equal(b.status()[0].next, new Date(last + 60_000).toISOString())
      await delay(40)
      assert.equal(late.starts.length, 0, 'the missed run waits missedRunDelayMs')
      assert.equal(onTime.starts.length, 0, 'a run not yet due does not start after missedRunDelayMs')
      await delay(100)
      assert.equal(late.starts.length, 1)
      assert.equal(onTime.starts.length, 0)
      await delay(150)
      assert.equal(onTime.starts.length, 1, 'runs once due')
      assert.ok(onTime.starts[0] >= last + 60_000 - 2)
      assert.equal(late.starts.length, 1)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('keeps the last run in the datastore: a new scheduler knows it and ignores stale or unreadable state', async () => {
    const datastore = new MemoryDatastore()
    await datastore.put(new Key('/backpack/schedule/0000'), new TextEncoder().encode('{"gone": true}'))
    await persist(datastore, B, { nonsense: 1 })
    const first = recorder(async n => { if (n === 0) throw new Error('peers unreachable'); return 'ok' })
    const a = await started(first, { backups: [{ paths: A, every: 60_000, everyText: '1min' }], retryFirstMs: 60_000 }, datastore)
    await delay(50)
    await a.stop()
    const before = a.status()[0]
    assert.equal(before.result, 'failed')

    const second = recorder()
    const b = await started(second, { backups: [{ paths: A, every: 60_000 }, { paths: B, every: 60_000 }], missedRunDelayMs: 30, retryFirstMs: 60_000 }, datastore)
    try {
      const [sa, sb] = b.status()
      assert.deepEqual({ ...sa, every: '1min' }, before, 'the same last run, error and retry time')
      assert.equal(sa.error, 'peers unreachable')
      assert.equal(sb.last, null, 'unreadable state counts as never ran')
      await delay(120)
      assert.deepEqual(second.paths, [B], 'the entry that never ran runs soon; the other waits for its retry')
    } finally {
      await b.stop()
    }
  })

  it('retries a failed run with doubling backoff, then a success resets it', async () => {
    const rec = recorder(async n => {
      if (n < 3) throw new Error(`failure ${n + 1}\n    at somewhere`)
      return 'ok'
    })
    const ends: Array<{ result: string, error?: string }> = []
    const scheduler = new Scheduler({ datastore: new MemoryDatastore(), run: rec.run }, { backups: [{ paths: A, every: 60_000 }], missedRunDelayMs: 0, retryFirstMs: 40, retryMaxMs: 10_000 })
    scheduler.addEventListener('run:end', evt => { ends.push({ result: evt.detail.result, error: evt.detail.error }) })
    await scheduler.start()
    try {
      await delay(100)
      const failed = scheduler.status()[0]
      assert.equal(failed.result, 'failed')
      assert.ok(failed.error === 'failure 1' || failed.error === 'failure 2', failed.error)
      await delay(400)
      assert.equal(rec.starts.length, 4)
      const gaps = [1, 2, 3].map(i => rec.starts[i] - rec.ends[i - 1])
      assert.ok(gaps[0] >= 38 && gaps[1] >= 78 && gaps[2] >= 158, `gaps ${gaps.join(', ')}`)
      assert.ok(gaps[0] < gaps[1] && gaps[1] < gaps[2], `gaps ${gaps.join(', ')}`)
      assert.deepEqual(ends, [
        { result: 'failed', error: 'failure 1' },
        { result: 'failed', error: 'failure 2' },
        { result: 'failed', error: 'failure 3' },
        { result: 'ok', error: undefined }
      ])
      const status = scheduler.status()[0]
      assert.equal(status.result, 'ok')
      assert.equal(status.error, undefined)
      assert.ok(status.last != null)
      assert.equal(Date.parse(status.next) - Date.parse(status.last), 60_000, 'next is a full interval after the success')
    } finally {
      await scheduler.stop()
    }
  })

  it('never overlaps runs, of one entry or of several', async () => {
    const rec = recorder(async (_n, signal) => { await delay(80, signal); return 'ok' })
    const scheduler = await started(rec, { backups: [{ paths: A, every: 20 }, { paths: B, every: 20 }] })
    try {
      await delay(450)
    } finally {
      await scheduler.stop()
    }
    assert.equal(rec.maxActive, 1)
    assert.ok(rec.starts.length >= 4, `${rec.starts.length} runs`)
    for (let i = 1; i < rec.starts.length; i++) assert.ok(rec.starts[i] >= rec.ends[i - 1])
    assert.deepEqual(rec.paths.slice(0, 4), [A, B, A, B], 'entries take turns')
  })

  it('stop() aborts the run in progress through its signal, records nothing and starts no run after', async () => {
    const rec = recorder(async (_n, signal) => { await delay(10_000, signal); return 'ok' })
    const ends: boolean[] = []
    const datastore = new MemoryDatastore()
    const scheduler = new Scheduler({ datastore, run: rec.run }, { backups: [{ paths: A, every: 20 }], missedRunDelayMs: 0 })
    scheduler.addEventListener('run:end', evt => { ends.push(evt.detail.aborted === true) })
    await scheduler.start()
    await scheduler.start()
    await delay(50)
    assert.equal(scheduler.status()[0].running, true)
    const t0 = Date.now()
    await scheduler.stop()
    assert.ok(Date.now() - t0 < 500, 'stop does not wait for the run to finish on its own')
    assert.equal(rec.signals[0].aborted, true)
    assert.equal(scheduler.status()[0].running, false)
    assert.equal(scheduler.status()[0].last, null)
    assert.deepEqual(ends, [true])
    await scheduler.stop()
    await delay(100)
    assert.equal(rec.starts.length, 1)
    assert.equal(await datastore.has(new Key(`/backpack/schedule/${scheduleKey(A)}`)), false)
  })

  it('status() reports every, last, result, error, next and running', async () => {
    let release!: () => void
    const rec = recorder(async n => {
      if (n === 0) throw new Error('disk on fire\nstack')
      await new Promise<void>(resolve => { release = resolve })
      return 'degraded'
    })
    const scheduler = new Scheduler({ datastore: new MemoryDatastore(), run: rec.run }, {
      backups: [{ paths: A, every: 3600_000, everyText: '1h' }, { paths: B, every: 90_000 }],
      missedRunDelayMs: 1_000_000,
      retryFirstMs: 30
    })
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
    await scheduler.start()
    try {
      const fresh = scheduler.status()
      assert.deepEqual(fresh.map(s => [s.paths, s.every, s.last, s.result, s.running]), [[A, '1h', null, null, false], [B, '90s', null, null, false]])
      assert.match(fresh[0].next, iso)
      assert.ok(Date.parse(fresh[0].next) > Date.now() + 900_000, 'a never-run entry waits missedRunDelayMs')

      await assert.rejects(scheduler.runNow(0), { message: 'disk on fire\nstack' })
      const failed = scheduler.status()[0]
      assert.match(failed.last ?? '', iso)
      assert.equal(failed.result, 'failed')
      assert.equal(failed.error, 'disk on fire')
      assert.equal(Date.parse(failed.next) - Date.parse(failed.last ?? ''), 30, 'the retry is next')

      await delay(60)
      assert.equal(scheduler.status()[0].running, true)
      release()
      await delay(10)
      const done = scheduler.status()[0]
      assert.equal(done.running, false)
      assert.equal(done.result, 'degraded')
      assert.equal('error' in done, false)
      assert.equal(Date.parse(done.next) - Date.parse(done.last ?? ''), 3600_000)
    } finally {
      await scheduler.stop()
    }
  })

  it('runNow() runs an entry at once, behind a run in progress, and moves its next run', async () => {
    const rec = recorder(async (n, signal) => {
      if (n === 0) await delay(100, signal)
      return 'ok'
    })
    const datastore = new MemoryDatastore()
    const scheduler = new Scheduler({ datastore, run: rec.run }, { backups: [{ paths: A, every: 3600_000 }, { paths: B, every: 3600_000 }], missedRunDelayMs: 1_000_000 })
    await assert.rejects(scheduler.runNow(0), { name: 'NotStartedError' })
    await scheduler.start()
    try {
      await assert.rejects(scheduler.runNow(2), RangeError)
      const slow = scheduler.runNow(0)
      await delay(20)
      const t0 = Date.now()
      const [x, y, z] = await Promise.all([slow, scheduler.runNow(1), scheduler.runNow(1)])
      assert.deepEqual([x, y, z], ['ok', 'ok', 'ok'])
      assert.ok(Date.now() - t0 >= 70, 'waited for the run in progress')
      assert.deepEqual(rec.paths, [A, B], 'two calls while queued share one run')
      assert.equal(rec.maxActive, 1)
      const status = scheduler.status()[1]
      assert.equal(status.result, 'ok')
      assert.equal(Date.parse(status.next) - Date.parse(status.last ?? ''), 3600_000)
    } finally {
      await scheduler.stop()
    }
  })
})
