import { AbortError, NotStartedError, TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { InvalidConfigError } from '../errors.js'
import { formatEvery, loadRun, oneLine, retryDelay, saveRun, scheduleKey } from './schedule-state.js'
import type { PersistedRun, RunOutcome } from './schedule-state.js'
import type { Datastore } from 'interface-datastore'

export { scheduleKey } from './schedule-state.js'
export type { RunOutcome } from './schedule-state.js'

const log = logger('backpack:schedule')

/** A run due while the node was stopped waits this long after start: time to find peers first. */
export const DEFAULT_MISSED_RUN_DELAY_MS = 10_000
/** First retry after a failed run; it doubles with each failure in a row. */
export const DEFAULT_RETRY_FIRST_MS = 30_000
/** Longest wait between retries (also never longer than the entry's `every`). */
export const DEFAULT_RETRY_MAX_MS = 60 * 60_000
/** Longest timer Node.js keeps (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** One entry of config `backups`, its `every` in ms. */
export interface ScheduledBackup {
  paths: string[]
  every: number
  exclude?: string[]
  priority?: 'high' | 'low'
}

/** What a run returns; a run that throws is 'failed'. */
export type RunResult = 'ok' | 'degraded'

/** One entry as `status --json` shows it under `schedule`. */
export interface ScheduleStatus {
  paths: string[]
  /** As configured (`1h`), or formatted from ms when the text is not known */
  every: string
  /** ISO time the last run ended, null if it never ran */
  last: string | null
  result: RunOutcome | null
  /** The failure's message, one line; only when result is 'failed' */
  error?: string
  /** ISO time of the next run, a retry included; while running or queued, when it was due */
  next: string
  running: boolean
}

export interface SchedulerComponents {
  datastore: Datastore
  /** Make one snapshot of the entry and apply retention; resolves 'ok' or 'degraded', throws on failure */
  run: (entry: ScheduledBackup, signal: AbortSignal) => Promise<RunResult>
}

export interface SchedulerInit {
  backups: Array<ScheduledBackup & { everyText?: string }>
  /** A run that was due while the node was off starts this long after start @default DEFAULT_MISSED_RUN_DELAY_MS */
  missedRunDelayMs?: number
  /** First retry after a failed run, doubling each time, capped at `every` and at `retryMaxMs` @default DEFAULT_RETRY_FIRST_MS */
  retryFirstMs?: number
  /** @default DEFAULT_RETRY_MAX_MS */
  retryMaxMs?: number
  /** The wall clock, ms since the epoch; must advance as Date.now() does @default Date.now */
  now?: () => number
}

export interface RunStartDetail { index: number, paths: string[] }
export interface RunEndDetail extends RunStartDetail {
  result: RunOutcome
  error?: string
  /** The run was cut short by stop(); nothing was recorded */
  aborted?: true
}

export interface SchedulerEvents {
  'run:start': CustomEvent<RunStartDetail>
  'run:end': CustomEvent<RunEndDetail>
}

interface Waiter { resolve: (result: RunResult) => void, reject: (err: unknown) => void }

/** An entry and where it stands. */
interface Slot {
  index: number
  entry: ScheduledBackup
  every: string
  key: string
  /** The last run, from the datastore or from this process */
  state?: PersistedRun
  /** When the next run is due, ms since the epoch */
  next: number
  timer?: NodeJS.Timeout
  running: boolean
  /** Waiting in the queue (at most once) */
  queued: boolean
  /** runNow() callers of the queued run */
  waiters: Waiter[]
}

/**
 * The daemon's side of config `backups`: runs each entry every `every`,
 * measured from the end of its last run (a slow run never overlaps itself,
 * and the next waits a full interval). Runs of all entries go one at a time,
 * first due first: concurrent snapshots compete for the same disk and
 * network. The end time and result of each entry's last run are kept in the
 * datastore, so a run due while the node was stopped runs soon after it
 * starts, and a recent one is not repeated. A failed run is retried with
 * doubling backoff; 'degraded' counts as done (a snapshot exists; repair
 * raises its replicas). State of entries no longer in config is ignored.
 */
export class Scheduler extends TypedEventEmitter<SchedulerEvents> {
  private readonly slots: Slot[]
  private readonly missedRunDelayMs: number
  private readonly retryFirstMs: number
  private readonly retryMaxMs: number
  private readonly now: () => number
  private controller = new AbortController()
  /** Set from start() until stop(): loading the persisted state */
  private starting?: Promise<void>
  private stopping?: Promise<void>
  private readonly queue: Slot[] = []
  private current?: Promise<void>

  constructor (private readonly components: SchedulerComponents, init: SchedulerInit) {
    super()
    this.missedRunDelayMs = init.missedRunDelayMs ?? DEFAULT_MISSED_RUN_DELAY_MS
    this.retryFirstMs = init.retryFirstMs ?? DEFAULT_RETRY_FIRST_MS
    this.retryMaxMs = init.retryMaxMs ?? DEFAULT_RETRY_MAX_MS
    this.now = init.now ?? Date.now
    const keys = new Set<string>()
    this.slots = init.backups.map(({ everyText, ...entry }, index) => {
      // a zero interval would run back to back forever
      if (!Number.isFinite(entry.every) || entry.every <= 0) throw new InvalidConfigError(`backups[${index}].every must be a positive duration, got ${everyText ?? entry.every}`)
      if (entry.paths.length === 0) throw new InvalidConfigError(`backups[${index}].paths must list at least one path`)
      const key = scheduleKey(entry.paths)
      // entries with the same paths share one record: each sees the other's runs as its own
      if (keys.has(key)) log('backups[%d] has the same paths as an earlier entry; they share their last run', index)
      keys.add(key)
      return { index, entry, every: everyText ?? formatEvery(entry.every), key, next: this.now() + this.missedRunDelayMs, running: false, queued: false, waiters: [] }
    })
  }

  /** Load each entry's last run and arm its timer; a second call is harmless. */
  async start (): Promise<void> {
    if (this.starting != null) return this.starting
    const stopping = this.stopping
    const controller = this.controller = new AbortController()
    this.starting = (async () => {
      // a run cut short by the last stop() must have ended before its state is read again
      await stopping
      const states = await Promise.all(this.slots.map(async slot => loadRun(this.components.datastore, slot.key)))
      if (controller.signal.aborted) return
      const startedAt = this.now()
      this.slots.forEach((slot, i) => {
        slot.state = states[i]
        slot.next = this.firstDue(slot, startedAt)
        this.arm(slot)
      })
      log('%d scheduled backups', this.slots.length)
    })()
    return this.starting
  }

  /** Abort the run in progress (through its signal), drop the queue and the timers; idempotent. */
  async stop (): Promise<void> {
    if (this.starting == null) return this.stopping
    const starting = this.starting
    this.starting = undefined
    this.controller.abort(new AbortError('the scheduler stopped'))
    for (const slot of this.slots) {
      clearTimeout(slot.timer)
      slot.timer = undefined
      slot.queued = false
      for (const waiter of slot.waiters.splice(0)) waiter.reject(this.controller.signal.reason)
    }
    this.queue.length = 0
    this.stopping = Promise.all([starting, this.current]).then(() => {}, () => {})
    return this.stopping
  }

  /** Each entry in config order, as `status --json` shows it. */
  status (): ScheduleStatus[] {
    return this.slots.map(slot => ({
      paths: [...slot.entry.paths],
      every: slot.every,
      last: slot.state == null ? null : new Date(slot.state.last).toISOString(),
      result: slot.state?.result ?? null,
      ...(slot.state?.error != null ? { error: slot.state.error } : {}),
      next: new Date(slot.next).toISOString(),
      running: slot.running
    }))
  }

  /**
   * Run entry `index` (config order) now, behind the run in progress if any;
   * joins a run of it already waiting. Counts as a scheduled run: the next one
   * is `every` after it. Rejects with the run's error when it fails.
   */
  async runNow (index: number): Promise<RunResult> {
    const slot = this.slots[index]
    if (!Number.isInteger(index) || slot == null) throw new RangeError(`no scheduled backup ${index}: there are ${this.slots.length}`)
    if (this.starting == null) throw new NotStartedError('the scheduler is not running')
    await this.starting
    if (this.controller.signal.aborted) throw new NotStartedError('the scheduler is not running')
    return new Promise<RunResult>((resolve, reject) => {
      slot.waiters.push({ resolve, reject })
      this.enqueue(slot)
    })
  }

  /** When an entry is first due after start: a missed or never-made run soon, else its regular time. */
  private firstDue (slot: Slot, now: number): number {
    const state = slot.state
    if (state == null) return now + this.missedRunDelayMs
    const due = state.last + (state.result === 'failed' ? this.retryAfter(slot, state.failures) : slot.entry.every)
    return due <= now ? now + this.missedRunDelayMs : due
  }

  private retryAfter (slot: Slot, failures: number): number {
    return retryDelay(failures, this.retryFirstMs, this.retryMaxMs, slot.entry.every)
  }

  private arm (slot: Slot): void {
    clearTimeout(slot.timer)
    if (this.controller.signal.aborted) return
    const wait = Math.max(0, slot.next - this.now())
    slot.timer = setTimeout(() => {
      slot.timer = undefined
      if (this.now() < slot.next) { this.arm(slot); return }
      // already waiting or running: its end arms the next run
      if (!slot.running) this.enqueue(slot)
    }, Math.min(wait, MAX_TIMER_MS))
    slot.timer.unref()
  }

  private enqueue (slot: Slot): void {
    if (slot.queued || this.controller.signal.aborted) return
    slot.queued = true
    this.queue.push(slot)
    this.pump()
  }

  /** Start the next queued run unless one is running. */
  private pump (): void {
    if (this.current != null) return
    const slot = this.queue.shift()
    if (slot == null) return
    this.current = this.execute(slot).finally(() => {
      this.current = undefined
      this.pump()
    })
  }

  /** One run of an entry: record how it ended and when the next is due. Never throws. */
  private async execute (slot: Slot): Promise<void> {
    const signal = this.controller.signal
    const waiters = slot.waiters.splice(0)
    const paths = [...slot.entry.paths]
    slot.queued = false
    clearTimeout(slot.timer)
    slot.running = true
    this.safeDispatchEvent<RunStartDetail>('run:start', { detail: { index: slot.index, paths } })
    log('backup of %s started', paths.join(', '))
    let result: RunOutcome
    let error: string | undefined
    let thrown: unknown
    try {
      result = await this.components.run(slot.entry, signal)
    } catch (err) {
      result = 'failed'
      thrown = err
      error = oneLine(err)
    }
    slot.running = false

    if (result === 'failed' && signal.aborted) {
      // stopped, not failed: the last finished run stays the last, and the next start catches up
      log('backup of %s aborted: %s', paths.join(', '), error)
      this.safeDispatchEvent<RunEndDetail>('run:end', { detail: { index: slot.index, paths, result, error, aborted: true } })
      for (const waiter of waiters) waiter.reject(thrown)
      return
    }

    const end = this.now()
    const failures = result === 'failed' ? (slot.state?.failures ?? 0) + 1 : 0
    slot.state = { last: end, result, ...(error != null ? { error } : {}), failures }
    slot.next = end + (result === 'failed' ? this.retryAfter(slot, failures) : slot.entry.every)
    if (result === 'failed') {
      log.error('backup of %s failed (%d in a row), retry at %s: %s', paths.join(', '), failures, new Date(slot.next).toISOString(), error)
    } else {
      log('backup of %s ended %s, next at %s', paths.join(', '), result, new Date(slot.next).toISOString())
    }
    try {
      await saveRun(this.components.datastore, slot.key, slot.state)
    } catch (err: any) {
      // the schedule goes on from memory; a restart may then repeat this run early
      log.error('keeping the last run of %s failed: %s', paths.join(', '), err?.message)
    }
    this.arm(slot)
    this.safeDispatchEvent<RunEndDetail>('run:end', { detail: { index: slot.index, paths, result, ...(error != null ? { error } : {}) } })
    for (const waiter of waiters) {
      if (result === 'failed') waiter.reject(thrown)
      else waiter.resolve(result)
    }
  }
}
