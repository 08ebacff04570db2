/**
 * Reciprocity: how much each peer holds for this node, from the catalog's
 * records of where its packs are. A holder lets a peer store as much more
 * than its share as that peer stores for it (ChunkStore.quotaOf). Read
 * often (every PUT), so the sums are kept and made again at most once per
 * REFRESH_MS, in the background.
 */
import { logger } from '@libp2p/logger'
import type { Catalog } from '../catalog/catalog.js'

const log = logger('backpack:credit')

/** The sums are made again at most this often (ms). */
export const CREDIT_REFRESH_MS = 60_000

export interface CreditsComponents {
  catalog: Pick<Catalog, 'packs'>
}

export class Credits {
  private held = new Map<string, number>()
  private madeAt = -Infinity
  private making?: Promise<void>

  constructor (private readonly components: CreditsComponents, private readonly refreshMs = CREDIT_REFRESH_MS) {}

  /** Bytes `peer` holds for this node (as last counted; a count is started when that is old). */
  of (peer: string): number {
    if (Date.now() - this.madeAt >= this.refreshMs) void this.refresh()
    return this.held.get(peer) ?? 0
  }

  /** Count again now (once at a time). */
  async refresh (): Promise<void> {
    this.making ??= (async () => {
      const held = new Map<string, number>()
      for await (const pack of this.components.catalog.packs()) {
        for (const holder of pack.holders) held.set(holder, (held.get(holder) ?? 0) + pack.size)
      }
      this.held = held
      this.madeAt = Date.now()
    })().catch(err => { log.error('counting what peers hold for this node failed: %s', err.message) })
      .finally(() => { this.making = undefined })
    return this.making
  }
}
