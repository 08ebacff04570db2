import { logger } from '@libp2p/logger'
import { delay } from '../util/concurrency.js'
import type { Outbox } from './outbox.js'
import type { Catalog, PackRecord } from '../catalog/catalog.js'
import type { PendingPut } from '../catalog/journal.js'
import type { Batch } from 'interface-datastore'

const log = logger('backpack:deletes')

/** A failed put's clean-up waits this long for copies still on their way to a holder. */
export const DEFAULT_ABANDON_GRACE_MS = 2_000

export interface DeletesComponents {
  catalog: Catalog
  outbox: Pick<Outbox, 'queueDelete' | 'deleteNow' | 'flush' | 'pendingFor'>
}

export interface RemoveResult {
  removed: string[]
  /** Chunks no remaining snapshot uses, dropped from their holders */
  chunks: number
  /** Holders asked to drop chunks */
  holders: number
  /** Of those, the ones still to hear it (offline now) */
  pending: number
}

/**
 * The delete policy: `rm` and `forget` (whole snapshots) and a put that
 * failed or died (what it stored). A chunk goes only when no remaining
 * snapshot needs it; its holders are told through the outbox, so a holder
 * offline now drops it when it is back. Records and tombstones are written
 * in one batch: a crash leaves either the snapshot or its deletion.
 * Callers run one at a time with the puts (Backups' lock), so a chunk
 * dropped here is never one a put is reusing.
 */
export class Deletes {
  /**
   * Failed puts whose records could not be forgotten (a full disk): their
   * chunks were dropped from the holders, so no put may reuse them. Tried
   * again before the next put or delete.
   */
  private readonly unfinished = new Set<PendingPut>()

  constructor (private readonly components: DeletesComponents, private readonly init: { graceMs?: number } = {}) {}

  /** Forget the records of failed puts that could not be forgotten before; throws while it still cannot. */
  async finishAbandoned (): Promise<void> {
    for (const put of [...this.unfinished]) {
      this.unfinished.delete(put)
      await this.abandon(put, 0)
      if (this.unfinished.has(put)) throw new Error('the records of a failed put cannot be forgotten yet (is the disk full?)')
    }
  }

  async removeSnapshots (ids: string[]): Promise<RemoveResult> {
    await this.finishAbandoned()
    const { catalog } = this.components
    const removed = new Set(ids)
    const needed = await catalog.needed(removed)
    const candidates = new Set<string>()
    for (const id of removed) for (const cid of await catalog.needs(id)) if (!needed.has(cid)) candidates.add(cid)
    const batch = catalog.batch()
    const byHolder = await this.dropRecords(batch, candidates)
    for (const id of removed) catalog.deleteSnapshot(batch, id)
    await this.queue(batch, byHolder)
    await batch.commit()
    const pending = await this.deliver(byHolder)
    log('removed %d snapshots: %d chunks dropped from %d holders', removed.size, candidates.size, byHolder.size)
    return { removed: [...removed], chunks: candidates.size, holders: byHolder.size, pending }
  }

  /**
   * A put that failed, was cancelled or died with the node: drop what it
   * stored that no snapshot needs. After `graceMs` (copies already sent may
   * still be on their way to a holder).
   */
  async abandon (put: PendingPut, graceMs = this.init.graceMs ?? DEFAULT_ABANDON_GRACE_MS, signal?: AbortSignal): Promise<void> {
    if (graceMs > 0) await delay(graceMs, signal)
    const { catalog } = this.components
    const placed = await put.placed()
    const needed = await catalog.needed()
    const drop = placed.filter(p => !needed.has(p.cid))
    const batch = catalog.batch()
    const byHolder = await this.dropRecords(batch, new Set(drop.map(p => p.cid)))
    // the journal knows holders the records may not (copies on their way)
    for (const { cid, holders } of drop) for (const h of holders) addTo(byHolder, h, cid)
    try {
      await this.queue(batch, byHolder)
      await batch.commit()
    } catch (err: any) {
      // no room for tombstones (a full disk, which may be why the put failed): tell the holders now
      log('could not queue the drops of an interrupted put (%s); telling %d holders now', err.message, byHolder.size)
      await Promise.all([...byHolder].map(async ([holder, cids]) => this.components.outbox.deleteNow(holder, [...cids]).catch(() => {})))
      // its records stay until they can be forgotten: the next put must not reuse what they name
      this.unfinished.add(put)
      return
    }
    await put.end()
    if (drop.length > 0) log('an interrupted put stored %d chunks; %d holders told to drop them', drop.length, byHolder.size)
    await this.deliver(byHolder)
  }

  /** Forget the records of these chunks in `batch`; holder → the chunks it is to drop. */
  private async dropRecords (batch: Batch, cids: Set<string>): Promise<Map<string, Set<string>>> {
    const { catalog } = this.components
    const byHolder = new Map<string, Set<string>>()
    for (const cid of cids) {
      const record: PackRecord | undefined = await catalog.pack(cid)
      if (record == null) continue
      await catalog.deletePack(batch, record)
      for (const h of record.holders) addTo(byHolder, h, cid)
    }
    return byHolder
  }

  private async queue (batch: Batch, byHolder: Map<string, Set<string>>): Promise<void> {
    for (const [holder, cids] of byHolder) await this.components.outbox.queueDelete(holder, [...cids], batch)
  }

  /** Deliver now what can be; how many holders are still to hear it. */
  private async deliver (byHolder: Map<string, Set<string>>): Promise<number> {
    const { outbox } = this.components
    await Promise.all([...byHolder.keys()].map(async h => outbox.flush(h).catch(() => {})))
    let pending = 0
    for (const holder of byHolder.keys()) if (await outbox.pendingFor(holder)) pending++
    return pending
  }
}

function addTo (map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key)
  if (set == null) map.set(key, set = new Set())
  set.add(value)
}
