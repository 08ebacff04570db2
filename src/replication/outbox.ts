import { logger } from '@libp2p/logger'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import type { BackpackPeers } from './peers.js'
import type { ChunkClient } from '../protocol/client.js'
import type { PeerId } from '@libp2p/interface'
import type { Batch, Datastore } from 'interface-datastore'

const log = logger('backpack:outbox')

const OUTBOX_PREFIX = '/backpack/outbox'

/** How often messages to peers that were offline are retried. */
export const DEFAULT_OUTBOX_RETRY_MS = 5_000

/**
 * Messages that must reach a peer even if it is offline now, kept in the
 * datastore until delivered: deletes for holders (tombstones) and "moved"
 * notices for owners. Delivered when the peer connects, and retried.
 * Keys: `/backpack/outbox/<peer>/delete/<cid>` and `/backpack/outbox/<peer>/moved/<cid>` → the new holder.
 */
export class Outbox {
  private readonly components: { datastore: Datastore, client: ChunkClient, peers: BackpackPeers, peerIdFromString: (id: string) => PeerId }
  private readonly init: { retryMs: number, holdersOf: () => Promise<Map<string, Set<string>>> }
  private timer?: NodeJS.Timeout
  private unsubscribe?: () => void
  private readonly flushing = new Map<string, Promise<void>>()

  constructor (components: Outbox['components'], init: Outbox['init']) {
    this.components = components
    this.init = init
  }

  start (): void {
    this.unsubscribe = this.components.peers.onChange((peer, connected) => {
      if (connected) void this.flush(peer.toString())
    })
    this.timer = setInterval(() => { void this.flushAll() }, this.init.retryMs)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    this.unsubscribe?.()
    clearInterval(this.timer)
    await Promise.all(this.flushing.values())
  }

  /** Tell `holder` to drop our claim on `cids`, now or when it is back; in `batch` when given (the caller commits it). */
  async queueDelete (holder: string, cids: string[], batch?: Batch): Promise<void> {
    const own = batch ?? this.components.datastore.batch()
    for (const cid of cids) own.put(new Key(`${OUTBOX_PREFIX}/${holder}/delete/${cid}`), new Uint8Array(0))
    if (batch == null) await own.commit()
  }

  /**
   * Tell `holder` now, without a tombstone, to drop our claim on `cids`: for
   * when the datastore cannot take tombstones (its disk is full). A holder
   * that is offline now keeps its copies until their lease runs out.
   */
  async deleteNow (holder: string, cids: string[]): Promise<void> {
    const id = this.components.peers.get(holder) ?? this.components.peerIdFromString(holder)
    try {
      await this.components.client.delete(id, cids.map(c => CID.parse(c)))
    } catch (err: any) {
      // FORBIDDEN: the peer holds none of these for us any more; nothing left to ask
      if (err.name !== 'NotOwnerError') throw err
    }
  }

  /** Tell `owner` that `cid` now lives on `newHolder` instead of on us. */
  async queueMoved (owner: string, cid: string, newHolder: string): Promise<void> {
    await this.components.datastore.put(new Key(`${OUTBOX_PREFIX}/${owner}/moved/${cid}`), new TextEncoder().encode(newHolder))
  }

  /** Does anything still wait for `peer`? */
  async pendingFor (peer: string): Promise<boolean> {
    for await (const _ of this.components.datastore.queryKeys({ prefix: `${OUTBOX_PREFIX}/${peer}/` })) return true
    return false
  }

  /** Number of messages not yet delivered. */
  async size (): Promise<number> {
    let n = 0
    for await (const _ of this.components.datastore.queryKeys({ prefix: OUTBOX_PREFIX + '/' })) n++
    return n
  }

  async flushAll (): Promise<void> {
    const peers = new Set<string>()
    for await (const key of this.components.datastore.queryKeys({ prefix: OUTBOX_PREFIX + '/' })) {
      peers.add(key.toString().split('/')[3])
    }
    await Promise.all([...peers].map(async peer => this.flush(peer)))
  }

  /** Deliver what waits for `peer`; one flush per peer at a time. */
  async flush (peer: string): Promise<void> {
    const running = this.flushing.get(peer)
    if (running != null) return running
    const job = this.deliver(peer).catch(err => { log('delivering to %s failed, will retry: %s', peer, err.message) })
      .finally(() => { this.flushing.delete(peer) })
    this.flushing.set(peer, job)
    return job
  }

  private async deliver (peer: string): Promise<void> {
    const { datastore, client } = this.components
    const deletes: string[] = []
    const moved = new Map<string, string[]>()
    for await (const { key, value } of datastore.query({ prefix: `${OUTBOX_PREFIX}/${peer}/` })) {
      const [, , , , kind, cid] = key.toString().split('/')
      if (kind === 'delete') deletes.push(cid)
      if (kind === 'moved') {
        const holder = new TextDecoder().decode(value)
        moved.set(holder, [...(moved.get(holder) ?? []), cid])
      }
    }
    if (deletes.length === 0 && moved.size === 0) return
    const id = this.components.peers.get(peer) ?? this.components.peerIdFromString(peer)
    if (deletes.length > 0) {
      // a chunk this peer holds for us again (put again since the delete was queued) must stay
      const holders = await this.init.holdersOf()
      const stale: string[] = []
      const send: string[] = []
      for (const cid of deletes) (holders.get(cid)?.has(peer) === true ? stale : send).push(cid)
      if (send.length > 0) await this.deleteNow(peer, send)
      for (const cid of [...stale, ...send]) await datastore.delete(new Key(`${OUTBOX_PREFIX}/${peer}/delete/${cid}`))
      log('delivered %d deletes to %s', send.length, peer)
    }
    for (const [holder, cids] of moved) {
      await client.moved(id, this.components.peerIdFromString(holder), cids.map(c => CID.parse(c)))
      for (const cid of cids) await datastore.delete(new Key(`${OUTBOX_PREFIX}/${peer}/moved/${cid}`))
      log('told %s that %d chunks moved to %s', peer, cids.length, holder)
    }
  }
}
