import { logger } from '@libp2p/logger'
import { UnavailableError } from '../errors.js'
import { newSession } from './placement.js'
import { throttled } from '../util/progress.js'
import type { Outbox } from './outbox.js'
import type { BackpackPeers } from './peers.js'
import type { Placement } from './placement.js'
import type { ChunkClient } from '../protocol/client.js'
import type { ChunkStore } from '../store/index.js'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { ProgressFn } from '../util/progress.js'

const log = logger('backpack:reclaim')

export interface ReclaimComponents {
  peerId: PeerId
  peerIdFromString: (id: string) => PeerId
  store: ChunkStore
  peers: BackpackPeers
  placement: Pick<Placement, 'place' | 'groupFor'>
  client: ChunkClient
  outbox: Outbox
}

export interface ReclaimResult {
  used: number
  limit: number
  /** Chunks handed to other peers and deleted here */
  moved: number
}

/**
 * Frees disk down to the storage limit without lowering any chunk's replica
 * count: each evicted chunk is first copied to a peer that does not hold it
 * yet (on behalf of its owners), the owners are told where it went (now, or
 * when they are back), and only then is it deleted here.
 */
export class Reclaimer {
  private readonly components: ReclaimComponents
  private running?: Promise<ReclaimResult>

  constructor (components: ReclaimComponents) {
    this.components = components
  }

  /** Bring used storage under `limit`; one run at a time. */
  async reclaim (limit: number, signal?: AbortSignal, onProgress?: ProgressFn): Promise<ReclaimResult> {
    while (this.running != null) await this.running.catch(() => {})
    this.components.store.setLimit(limit)
    const run = this.run(signal, onProgress)
    this.running = run
    try {
      return await run
    } finally {
      this.running = undefined
    }
  }

  private async run (signal?: AbortSignal, onProgress?: ProgressFn): Promise<ReclaimResult> {
    const { store } = this.components
    const self = this.components.peerId.toString()
    let moved = 0
    let stuck = 0
    if (store.used <= store.limit) return { used: store.used, limit: store.limit, moved }
    // progress: bytes freed of those to free
    const start = store.used
    const total = start - store.limit
    const progress = throttled(() => { onProgress?.({ type: 'backpack:reclaim:progress', done: Math.min(total, start - store.used), total }) })
    onProgress?.({ type: 'backpack:reclaim:progress', done: 0, total })

    const owners = new Map<string, { cid: CID, owners: string[] }>()
    for await (const held of store.claims.held()) {
      const key = held.cid.toString()
      const entry = owners.get(key) ?? { cid: held.cid, owners: [] }
      entry.owners.push(held.owner)
      owners.set(key, entry)
    }
    const evict = [...owners.values()]
    // which peers hold which of these already: they must not count as a new copy
    const holdersOf = await this.whoHas(evict.map(e => e.cid), signal)
    const session = newSession()

    for (const { cid, owners: claimants } of evict) {
      if (store.used <= store.limit) break
      signal?.throwIfAborted()
      let bytes: Uint8Array
      try {
        bytes = await store.get(cid)
      } catch {
        continue // gone or corrupt: nothing to hand on
      }
      const exclude = new Set([self, ...claimants, ...(holdersOf.get(cid.toString()) ?? [])])
      const [first, ...rest] = claimants
      const taken = await this.components.placement.place(cid, bytes, 1, session, {
        exclude,
        signal,
        owner: this.components.peerIdFromString(first),
        claim: await store.claims.signature(cid, first),
        manifest: await store.claims.isManifest(cid, first)
      })
      if (taken.length === 0) {
        stuck++
        continue
      }
      const newHolder = taken[0]
      try {
        const peer = this.components.peers.get(newHolder) ?? this.components.peerIdFromString(newHolder)
        for (const owner of rest) {
          const id = this.components.peerIdFromString(owner)
          await this.components.client.put(peer, cid, bytes, { owner: id, claim: await store.claims.signature(cid, owner), group: this.components.placement.groupFor(id), manifest: await store.claims.isManifest(cid, owner), signal })
        }
      } catch (err: any) {
        log('handing %c to %s for every owner failed: %s', cid, newHolder, err.message)
        stuck++
        continue
      }
      for (const owner of claimants) await this.components.outbox.queueMoved(owner, cid.toString(), newHolder)
      await store.remove(cid)
      moved++
      progress()
    }
    progress(true)
    for (const owner of new Set(evict.flatMap(e => e.owners))) void this.components.outbox.flush(owner)
    log('reclaimed: moved %d chunks, %d could not be handed on, %d of %d bytes used', moved, stuck, store.used, store.limit)
    if (store.used > store.limit) {
      throw new UnavailableError(`moved ${moved} chunks but ${store.used} bytes are still held, over the limit of ${store.limit}: no other peer could take ${stuck} chunks (${this.components.peers.list().length} peers reachable)`)
    }
    return { used: store.used, limit: store.limit, moved }
  }

  /** cid → peers that already hold it, asked of every connected peer. */
  private async whoHas (cids: CID[], signal?: AbortSignal): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>()
    await Promise.all(this.components.peers.list().map(async peer => {
      try {
        const have = await this.components.client.has(peer, cids, { signal })
        have.forEach((yes, i) => {
          if (!yes) return
          const key = cids[i].toString()
          out.set(key, [...(out.get(key) ?? []), peer.toString()])
        })
      } catch (err: any) {
        log('asking %p what it holds failed: %s', peer, err.message)
      }
    }))
    return out
  }
}

export interface LeaseInit {
  leaseMs: number
  checkIntervalMs: number
}

/**
 * The safety net for deletes that never arrive: a claim whose owner has not
 * renewed it within the lease is dropped, and the chunk with its last claim.
 */
export class LeaseCollector {
  private timer?: NodeJS.Timeout

  constructor (private readonly components: { store: ChunkStore }, private readonly init: LeaseInit) {}

  start (): void {
    this.timer = setInterval(() => { this.collect().catch(err => log.error('lease check failed %e', err)) }, this.init.checkIntervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** Drop expired claims; returns how many. */
  async collect (now = Date.now()): Promise<number> {
    const expired = []
    for await (const held of this.components.store.claims.held()) {
      if (now - held.renewed > this.init.leaseMs) expired.push(held)
    }
    for (const { cid, owner } of expired) await this.components.store.release(cid, owner)
    if (expired.length > 0) log('dropped %d claims whose lease expired', expired.length)
    return expired.length
  }
}
