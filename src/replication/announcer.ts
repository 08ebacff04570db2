import { logger } from '@libp2p/logger'
import { delay } from '../util/concurrency.js'
import type { ContentRouting } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:announcer')

/** One provide may take this long before it is given up (and retried later). */
export const PROVIDE_TIMEOUT_MS = 30_000
const RETRY_DELAY_MS = 10_000

export interface AnnouncerComponents {
  contentRouting: Pick<ContentRouting, 'provide' | 'cancelReprovide'>
}

export interface AnnouncerInit {
  /** Provides in flight @default 10 */
  concurrency: number
  /** Provides started per second at most @default 20 */
  perSecond: number
}

/**
 * Announces DHT provider records (the holder groups of the owners whose
 * chunks this node holds) in the background, batched and rate-limited: a
 * put never waits for the DHT. The DHT's reprovider re-announces them
 * before the records expire; a withdrawn key's re-announcing is cancelled.
 */
export class Announcer {
  private readonly components: AnnouncerComponents
  private readonly init: AnnouncerInit
  private readonly pending = new Map<string, CID>()
  private controller?: AbortController
  private wake?: () => void
  private loop?: Promise<void>
  announced = 0

  constructor (components: AnnouncerComponents, init: AnnouncerInit) {
    this.components = components
    this.init = init
  }

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    this.loop = this.run(this.controller.signal).catch(() => {})
  }

  async stop (): Promise<void> {
    this.controller?.abort()
    this.wake?.()
    await this.loop
    this.controller = undefined
  }

  get queued (): number {
    return this.pending.size
  }

  announce (cid: CID): void {
    this.pending.set(cid.toString(), cid)
    this.wake?.()
  }

  withdraw (cid: CID): void {
    this.pending.delete(cid.toString())
    this.components.contentRouting.cancelReprovide(cid).catch(() => {})
  }

  private async run (signal: AbortSignal): Promise<void> {
    const interval = 1000 / this.init.perSecond
    while (!signal.aborted) {
      if (this.pending.size === 0) {
        await new Promise<void>(resolve => { this.wake = resolve })
        this.wake = undefined
        continue
      }
      const batch = [...this.pending.entries()].slice(0, this.init.concurrency)
      for (const [key] of batch) this.pending.delete(key)
      const started = Date.now()
      await Promise.all(batch.map(async ([key, cid]) => {
        try {
          await this.components.contentRouting.provide(cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PROVIDE_TIMEOUT_MS)]) })
          this.announced++
        } catch (err: any) {
          if (signal.aborted) return
          log('providing %c failed, will retry: %s', cid, err.message)
          setTimeout(() => { if (!signal.aborted) this.announce(cid) }, RETRY_DELAY_MS).unref()
        }
        return key
      }))
      const wait = batch.length * interval - (Date.now() - started)
      if (wait > 0) await delay(wait, signal).catch(() => {})
    }
  }
}
