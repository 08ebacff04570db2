import { logger } from '@libp2p/logger'
import { Key } from 'interface-datastore'
import { decodeTime, encodeTime } from './index.js'
import type { ChunkStore } from './index.js'
import type { Datastore } from 'interface-datastore'

const log = logger('backpack:scrub')

/** When the last scrub pass ended, ms since the epoch (decimal text). */
const LAST_SCRUB_KEY = new Key('/backpack/scrub/last')
/** A pass reads at most this much per second: a background task, not a load. */
export const SCRUB_BYTES_PER_SECOND = 32 * 1024 * 1024
/** Longest timer Node.js keeps (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface ScrubberComponents {
  store: Pick<ChunkStore, 'scrub'>
  datastore: Datastore
}

export interface ScrubberInit {
  /** Time between the end of one pass and the start of the next */
  intervalMs: number
  bytesPerSecond?: number
}

/**
 * Re-hashes every chunk this node holds once per interval and drops the
 * corrupt ones (ChunkStore.scrub), so that a copy that rotted on disk stops
 * counting as a replica before anyone needs it. The time of the last pass
 * is kept in the datastore: restarts do not start a pass early.
 */
export class Scrubber {
  private timer?: NodeJS.Timeout
  private controller = new AbortController()
  private running?: Promise<void>

  constructor (private readonly components: ScrubberComponents, private readonly init: ScrubberInit) {}

  async start (): Promise<void> {
    this.controller = new AbortController()
    let last = await this.lastPass()
    if (last == null) {
      // a new node holds nothing yet; a node that held chunks before scrubbing existed waits one interval
      last = await this.recordPass()
    }
    this.schedule(last + this.init.intervalMs)
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.controller.abort(new Error('scrubber stopped'))
    await this.running?.catch(() => {})
  }

  private async lastPass (): Promise<number | undefined> {
    try {
      const value = decodeTime(await this.components.datastore.get(LAST_SCRUB_KEY))
      return Number.isFinite(value) ? value : undefined
    } catch {
      return undefined
    }
  }

  private schedule (at: number): void {
    const wait = Math.max(0, at - Date.now())
    this.timer = setTimeout(() => {
      if (at > Date.now()) { this.schedule(at); return }
      this.running = this.pass().then(() => {}, err => {
        if (!this.controller.signal.aborted) log.error('scrub pass failed %e', err)
      }).finally(() => {
        this.running = undefined
        if (!this.controller.signal.aborted) this.schedule(Date.now() + this.init.intervalMs)
      })
    }, Math.min(wait, MAX_TIMER_MS))
    this.timer.unref()
  }

  /** One pass over every chunk now. */
  async pass (): Promise<{ checked: number, dropped: number, unclaimed: number }> {
    const result = await this.components.store.scrub({ bytesPerSecond: this.init.bytesPerSecond ?? SCRUB_BYTES_PER_SECOND, signal: this.controller.signal })
    await this.recordPass()
    return result
  }

  /** Keep now as the time of the last pass. */
  private async recordPass (): Promise<number> {
    const now = Date.now()
    await this.components.datastore.put(LAST_SCRUB_KEY, encodeTime(now))
    return now
  }
}
