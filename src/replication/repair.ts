import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { newSession } from './placement.js'
import type { Catalog, CatalogEntry } from '../backup/catalog.js'
import type { BackpackPeers } from './peers.js'
import type { Placement, PlacementSession } from './placement.js'
import type { PeerId } from '@libp2p/interface'
import type { ProgressFn } from '../backup/index.js'

const log = logger('backpack:repair')

/** How long one holder may take to answer a check. */
export const CHECK_TIMEOUT_MS = 15_000
/** Holders checked at once. */
export const CHECK_CONCURRENCY = 8

export interface RepairComponents {
  peerId: PeerId
  peerIdFromString: (id: string) => PeerId
  catalog: Catalog
  peers: BackpackPeers
  placement: Pick<Placement, 'place'>
  /** Which of `cids` does `peer` hold for us; renews our lease on them */
  renew: (peer: PeerId, cids: CID[], signal: AbortSignal) => Promise<boolean[]>
  /** A sealed chunk from these holders (or the DHT's providers) */
  fetch: (cid: CID, holders: string[], signal?: AbortSignal) => Promise<Uint8Array>
  /** A lost holder that may come back: tell it to drop its now surplus copy */
  forget: (holder: string, cids: string[]) => Promise<void>
}

export interface RepairInit {
  intervalMs: number
  /** A holder unreachable for less than this is not yet counted as lost */
  graceMs: number
  /** Chunks being copied at once */
  maxConcurrent: number
}

export interface VerifyResult {
  id: string
  name: string
  replicas: { desired: number, actual: number }
  repaired: number
}

/**
 * The owner's repair loop: asks every holder which of our chunks it still
 * holds (a batched RENEW, which also renews our leases), and copies chunks
 * below their desired count to new distinct peers, a bounded number at a
 * time. `verify` runs one pass now.
 */
export class Repairer {
  private readonly components: RepairComponents
  private readonly init: RepairInit
  private controller?: AbortController
  private timer?: NodeJS.Timeout
  /** When each holder first failed to answer, cleared when it answers */
  private readonly unreachableSince = new Map<string, number>()
  private running?: Promise<VerifyResult[]>
  private active = 0
  private readonly waiters: Array<() => void> = []
  /** Most chunk copies ever in flight at once (shown by tests) */
  peakConcurrent = 0

  constructor (components: RepairComponents, init: RepairInit) {
    this.components = components
    this.init = init
  }

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.pass(undefined, false).catch(err => log.error('repair pass failed %e', err)).finally(() => {
          if (this.controller?.signal.aborted === false) tick()
        })
      }, this.init.intervalMs)
      this.timer.unref()
    }
    tick()
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.controller?.abort()
    await this.running?.catch(() => {})
    this.controller = undefined
  }

  /** Check and repair now, without the grace period: what `verify` runs. */
  async verify (ids?: string[], signal?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    return this.pass(ids, true, signal, onProgress)
  }

  /** One pass over the catalog (or the given backups); passes do not overlap. */
  private async pass (ids: string[] | undefined, force: boolean, signal?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    while (this.running != null) await this.running.catch(() => {})
    const run = this.check(ids, force, signal, onProgress)
    this.running = run
    try {
      return await run
    } finally {
      this.running = undefined
    }
  }

  private async check (ids: string[] | undefined, force: boolean, outer?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    const { catalog } = this.components
    const signals = [this.controller?.signal, outer].filter((s): s is AbortSignal => s != null)
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined
    const entries = (await catalog.list()).filter(e => ids == null || ids.includes(e.id))
    const confirmed = await this.askHolders(entries, force, signal)
    const session = newSession()
    const results: VerifyResult[] = []
    // progress: the bytes of the backups checked (and repaired) so far
    for (const entry of entries) onProgress?.({ type: 'verify:file', name: entry.name, total: entry.size })
    for (const entry of entries) {
      results.push(await this.repairEntry(entry, confirmed, session, signal))
      onProgress?.({ type: 'verify:bytes', name: entry.name, done: entry.size, total: entry.size })
    }
    return results
  }

  /** holder → the CIDs it confirmed (or is presumed to hold during the grace period). */
  private async askHolders (entries: CatalogEntry[], force: boolean, signal?: AbortSignal): Promise<Map<string, Set<string>>> {
    const byHolder = new Map<string, Set<string>>()
    const add = (holder: string, cid: string): void => {
      let set = byHolder.get(holder)
      if (set == null) byHolder.set(holder, set = new Set())
      set.add(cid)
    }
    for (const e of entries) {
      for (const h of e.manifest.holders) add(h, e.id)
      for (const c of e.chunks) for (const h of c.holders) add(h, c.cid)
    }
    const confirmed = new Map<string, Set<string>>()
    const holders = [...byHolder.keys()]
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < holders.length) {
        const holder = holders[next++]
        const cids = [...byHolder.get(holder) ?? []]
        try {
          const peer = this.components.peers.get(holder) ?? this.components.peerIdFromString(holder)
          const timeout = AbortSignal.timeout(CHECK_TIMEOUT_MS)
          const have = await this.components.renew(peer, cids.map(c => CID.parse(c)), signal != null ? AbortSignal.any([signal, timeout]) : timeout)
          confirmed.set(holder, new Set(cids.filter((_, i) => have[i])))
          this.unreachableSince.delete(holder)
        } catch (err: any) {
          signal?.throwIfAborted()
          const since = this.unreachableSince.get(holder) ?? Date.now()
          this.unreachableSince.set(holder, since)
          const lost = force || Date.now() - since >= this.init.graceMs
          log('holder %s unreachable (%s)%s', holder, err.message, lost ? '' : ', within the grace period')
          confirmed.set(holder, lost ? new Set() : new Set(cids))
        }
      }
    }
    await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker))
    return confirmed
  }

  private async repairEntry (entry: CatalogEntry, confirmed: Map<string, Set<string>>, session: PlacementSession, signal?: AbortSignal): Promise<VerifyResult> {
    let repaired = 0
    /** New holder record and live count of one chunk (or the manifest). */
    const fix = async (cid: string, holders: string[]): Promise<{ holders: string[], count: number }> => {
      const have = holders.filter(h => confirmed.get(h)?.has(cid) === true)
      let added: string[] = []
      if (have.length < entry.replicas) {
        added = await this.copy(cid, have.length > 0 ? have : holders, entry.replicas - have.length, new Set(have), session, signal, cid === entry.id)
        if (added.length > 0) repaired++
      }
      const live = [...have, ...added]
      // holders that did not answer (a holder that answered "no" is simply dropped)
      const unreachable = holders.filter(h => !have.includes(h) && this.unreachableSince.has(h))
      if (live.length >= entry.replicas) {
        // back at the desired count: a lost holder that returns drops its surplus copy
        for (const h of unreachable) await this.components.forget(h, [cid])
        return { holders: live, count: live.length }
      }
      // still short: keep the unreachable holders on record, their copies count again when they return
      return { holders: [...live, ...unreachable], count: live.length }
    }
    const chunks = await Promise.all(entry.chunks.map(async c => ({ cid: c.cid, ...await fix(c.cid, c.holders) })))
    const manifest = await fix(entry.id, entry.manifest.holders)
    const byCid = new Map(chunks.map(c => [c.cid, c.holders]))
    await this.components.catalog.update(entry.id, e => ({
      ...e,
      chunks: e.chunks.map(c => ({ ...c, holders: byCid.get(c.cid) ?? c.holders })),
      manifest: { holders: manifest.holders }
    }))
    const actual = Math.min(manifest.count, ...chunks.map(c => c.count))
    if (repaired > 0) log('repaired %d chunks of %s, now %d/%d', repaired, entry.name, actual, entry.replicas)
    return { id: entry.id, name: entry.name, replicas: { desired: entry.replicas, actual }, repaired }
  }

  /** Copy one chunk to `count` new peers, within the bound on concurrent copies. */
  private async copy (cid: string, sources: string[], count: number, have: Set<string>, session: PlacementSession, signal?: AbortSignal, manifest = false): Promise<string[]> {
    await this.acquire(signal)
    try {
      const parsed = CID.parse(cid)
      const bytes = await this.components.fetch(parsed, sources, signal)
      const exclude = new Set([this.components.peerId.toString(), ...have])
      return await this.components.placement.place(parsed, bytes, count, session, { exclude, signal, manifest })
    } catch (err: any) {
      signal?.throwIfAborted()
      log('cannot repair %s: %s', cid, err.message)
      return []
    } finally {
      this.release()
    }
  }

  private async acquire (signal?: AbortSignal): Promise<void> {
    while (this.active >= this.init.maxConcurrent) {
      signal?.throwIfAborted()
      await new Promise<void>(resolve => this.waiters.push(resolve))
    }
    this.active++
    this.peakConcurrent = Math.max(this.peakConcurrent, this.active)
  }

  private release (): void {
    this.active--
    this.waiters.shift()?.()
  }
}
