import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { Backups } from '../backup/index.js'
import { Catalog } from '../backup/catalog.js'
import { DataCipher } from '../chunking/cipher.js'
import { ChunkClient } from '../protocol/client.js'
import { ChunkHandler } from '../protocol/handler.js'
import { Announcer } from '../replication/announcer.js'
import { GroupLookup, HolderGroups, holderGroup } from '../replication/groups.js'
import { DEFAULT_OUTBOX_RETRY_MS, Outbox } from '../replication/outbox.js'
import { Mesh } from '../replication/mesh.js'
import { BackpackPeers } from '../replication/peers.js'
import { Placement } from '../replication/placement.js'
import { LeaseCollector, Reclaimer } from '../replication/reclaim.js'
import { Scrubber } from '../store/scrub.js'
import { Repairer } from '../replication/repair.js'
import { fetchChunk } from '../backup/get.js'
import { recoverCatalog } from '../backup/recover.js'
import { PutJournal, RestoreJournal } from '../backup/journal.js'
import type { ProgressFn } from '../backup/index.js'
import type { PendingPut, Placed } from '../backup/journal.js'
import { pathExists } from '../util/fs.js'
import { delay } from '../util/concurrency.js'
import { CryptoPool } from '../chunking/crypto-pool.js'
import { NotFoundError } from '../errors.js'
import { updateRepoConfig } from '../repo/config.js'
import { repoPaths } from '../repo/index.js'
import type { ReclaimResult } from '../replication/reclaim.js'
import type { VerifyResult } from '../replication/repair.js'
import { ChunkStore } from '../store/index.js'
import { PRIORITY_REPLICAS } from '../repo/config.js'
import type { CatalogEntry } from '../backup/catalog.js'
import type { BackpackLibp2p } from '../node/index.js'
import type { Config } from '../repo/config.js'
import type { RepoKeys } from '../repo/index.js'
import type { Datastore } from 'interface-datastore'

const log = logger('backpack:node')

export interface BackpackComponents {
  libp2p: BackpackLibp2p
  datastore: Datastore
  keys: RepoKeys
}

export interface BackpackInit {
  config: Config
  repo: string
}

export interface StatusResult {
  peerId: string
  addrs: string[]
  peers: number
  storage: { used: number, limit: number }
  backups: number
  /** The daemon's memory, bytes (process.memoryUsage) */
  memory: { rss: number, heapUsed: number, external: number, arrayBuffers: number }
}

export interface RmResult {
  id: string
  name: string
  /** Holders asked to drop chunks */
  holders: number
  /** Deletes still waiting for holders that are offline */
  pending: number
}

/** A lowered storage limit is acted on this long after start, when peers are connected. */
export const RECLAIM_AT_START_DELAY_MS = 5_000
/** …and retried this often while storage is over the limit. */
export const RECLAIM_RETRY_MS = 30_000
/** A failed put's clean-up waits this long for copies still on their way */
export const ABANDON_GRACE_MS = 2_000
/** A recovered node's first attempt to rebuild its catalog; later ones wait twice as long each */
export const RECOVERY_FIRST_DELAY_MS = 1_000
export const RECOVERY_MAX_DELAY_MS = 60_000
/** Passes in which every holder answered before the catalog counts as recovered */
export const RECOVERY_PASSES = 2
/** A recovered node looks for its catalog for this long at least */
export const RECOVERY_MIN_MS = 5 * 60_000
/** How long one DHT lookup of this node's holders may take */
export const GROUP_LOOKUP_TIMEOUT_MS = 15_000

export interface PeerResult {
  peerId: string
  addrs: string[]
}

/**
 * A running backpack node: the libp2p node and the services on top of it,
 * wired together here. The control API calls its methods.
 */
export class Backpack {
  readonly components: BackpackComponents
  readonly init: BackpackInit
  readonly store: ChunkStore
  readonly catalog: Catalog
  readonly client: ChunkClient
  readonly handler: ChunkHandler
  readonly peers: BackpackPeers
  readonly placement: Placement
  readonly announcer: Announcer
  readonly groups: HolderGroups
  readonly journal: PutJournal
  private readonly restores: RestoreJournal
  readonly backups: Backups
  readonly outbox: Outbox
  readonly repairer: Repairer
  readonly reclaimer: Reclaimer
  readonly leases: LeaseCollector
  readonly scrubber: Scrubber
  readonly mesh: Mesh
  readonly crypto: CryptoPool
  private reclaimTimer?: NodeJS.Timeout
  private recoverTimer?: NodeJS.Timeout
  private readonly controller = new AbortController()

  constructor (components: BackpackComponents, init: BackpackInit) {
    this.components = components
    this.init = init
    const { libp2p, datastore, keys } = components
    const { config } = init
    this.announcer = new Announcer({ contentRouting: libp2p.contentRouting }, {
      concurrency: config.dht.provideConcurrency,
      perSecond: config.dht.providesPerSecond
    })
    this.store = new ChunkStore({ datastore }, {
      dir: join(init.repo, 'chunks'),
      limit: config.storage.limit,
      onRemoved: () => { this.groups.scheduleSweep() }
    })
    this.groups = new HolderGroups({ datastore, announcer: this.announcer, held: () => this.store.held() })
    this.catalog = new Catalog({ datastore })
    this.journal = new PutJournal({ datastore })
    this.restores = new RestoreJournal({ datastore })
    this.crypto = new CryptoPool(keys.dataSecret, config.transfer.cryptoWorkers)
    this.client = new ChunkClient({ dialer: libp2p }, { timeoutMs: config.transfer.requestTimeoutMs })
    this.handler = new ChunkHandler({ registrar: libp2p, store: this.store }, {
      onMoved: async (from, to, cids) => { await this.moved(from, to, cids.map(String)) },
      onGroup: async (owner, group, sender) => { await this.groups.stored(owner, group, sender) }
    })
    this.peers = new BackpackPeers({ libp2p })
    const group = holderGroup(keys.dataSecret)
    this.placement = new Placement({ peers: this.peers, client: this.client, ownGroup: group, groupOf: owner => this.groups.groupOf(owner) })
    this.backups = new Backups({
      peerId: libp2p.peerId,
      peerIdFromString,
      journal: this.journal,
      restores: this.restores,
      abandon: async put => { await this.abandon(put, ABANDON_GRACE_MS) },
      groupLookup: new GroupLookup({ contentRouting: libp2p.contentRouting }, group, { timeoutMs: GROUP_LOOKUP_TIMEOUT_MS }),
      cipher: new DataCipher(keys.dataSecret),
      crypto: this.crypto,
      client: this.client,
      peers: this.peers,
      placement: this.placement,
      catalog: this.catalog
    }, {
      chunkSize: config.chunking.size,
      chunksInFlight: config.transfer.chunksInFlight
    })
    this.outbox = new Outbox({ datastore, client: this.client, peers: this.peers, peerIdFromString }, {
      retryMs: DEFAULT_OUTBOX_RETRY_MS,
      holdersOf: async () => this.catalog.holdersOf()
    })
    this.repairer = new Repairer({
      peerId: libp2p.peerId,
      peerIdFromString,
      catalog: this.catalog,
      peers: this.peers,
      placement: this.placement,
      renew: async (peer, cids, signal) => this.client.renew(peer, cids, { signal }),
      // one pass: a chunk that cannot be had now is tried again on the next repair
      fetch: async (cid, holders, signal) => fetchChunk(this.backups.components, cid, holders, 0, signal, undefined, 1),
      forget: async (holder, cids) => { await this.outbox.queueDelete(holder, cids) }
    }, {
      intervalMs: config.replication.repairIntervalMs,
      graceMs: config.replication.graceMs,
      maxConcurrent: config.replication.maxConcurrentRepairs
    })
    this.reclaimer = new Reclaimer({
      peerId: libp2p.peerId,
      peerIdFromString,
      store: this.store,
      peers: this.peers,
      placement: this.placement,
      client: this.client,
      outbox: this.outbox
    })
    this.mesh = new Mesh({ libp2p }, { maxConnections: config.connections.maxConnections })
    this.leases = new LeaseCollector({ store: this.store }, {
      leaseMs: config.replication.leaseMs,
      checkIntervalMs: config.replication.leaseCheckIntervalMs
    })
    this.scrubber = new Scrubber({ store: this.store, datastore }, { intervalMs: config.storage.scrubIntervalMs })
  }

  async start (): Promise<void> {
    await this.store.start()
    await this.groups.start()
    await this.handler.start()
    await this.peers.start()
    this.announcer.start()
    this.outbox.start()
    this.repairer.start()
    this.leases.start()
    await this.scrubber.start()
    this.mesh.start()
    if (this.store.used > this.store.limit) this.scheduleReclaim(RECLAIM_AT_START_DELAY_MS)
    // puts that died with the last run: drop what they stored
    for (const put of await this.journal.leftovers()) {
      this.abandon(put).catch(err => { log('cleaning up an interrupted put failed: %s', err.message) })
    }
    // and the temporary files of restores that died with it (before the API
    // is up: a record of a restore starting now must not be taken for one)
    try {
      const removed = await this.restores.cleanup()
      if (removed.length > 0) log('removed %d temporary files of interrupted restores', removed.length)
    } catch (err: any) {
      log('removing the temporary files of interrupted restores failed: %s', err.message)
    }
    if (await pathExists(repoPaths(this.init.repo).recovering)) this.scheduleRecovery(RECOVERY_FIRST_DELAY_MS, 0, Date.now())
    log('started as %p', this.components.libp2p.peerId)
  }

  /**
   * A repo made with `init --recover`: rebuild the catalog from what the
   * holders keep for this node, again and again until two passes found
   * holders and every one of them answered, and for RECOVERY_MIN_MS at
   * least (holders that were offline, or whose records had not spread yet,
   * get their chance); then the marker goes.
   */
  private scheduleRecovery (delayMs: number, complete: number, startedAt: number): void {
    clearTimeout(this.recoverTimer)
    this.recoverTimer = setTimeout(() => {
      void (async () => {
        try {
          const result = await recoverCatalog(this.backups.components, this.controller.signal)
          log('catalog recovery: %d holders, %d answered, %d backups added', result.holders, result.answered, result.added)
          if (result.holders > 0 && result.answered === result.holders) complete++
          if (complete >= RECOVERY_PASSES && Date.now() - startedAt >= RECOVERY_MIN_MS) {
            await unlink(repoPaths(this.init.repo).recovering).catch(() => {})
            log('catalog recovered')
            return
          }
        } catch (err: any) {
          if (this.controller.signal.aborted) return
          log('catalog recovery pass failed: %s', err.message)
        }
        this.scheduleRecovery(Math.min(delayMs * 2, RECOVERY_MAX_DELAY_MS), complete, startedAt)
      })()
    }, delayMs)
    this.recoverTimer.unref()
  }

  /** Storage is over a lowered limit: hand chunks on until it is not. */
  private scheduleReclaim (delayMs: number): void {
    clearTimeout(this.reclaimTimer)
    this.reclaimTimer = setTimeout(() => {
      this.reclaimer.reclaim(this.store.limit).catch(err => {
        log('reclaim at start incomplete, will retry: %s', err.message)
        this.scheduleReclaim(RECLAIM_RETRY_MS)
      })
    }, delayMs)
    this.reclaimTimer.unref()
  }

  async stop (): Promise<void> {
    this.controller.abort()
    clearTimeout(this.recoverTimer)
    clearTimeout(this.reclaimTimer)
    this.mesh.stop()
    this.groups.stop()
    this.leases.stop()
    await this.scrubber.stop()
    await this.repairer.stop()
    await this.outbox.stop()
    await this.announcer.stop()
    await this.peers.stop()
    await this.handler.stop()
    await this.client.stop()
    await this.crypto.stop()
    await this.store.stop()
  }

  /** Replicas a put makes: `--replicas`, else `--priority`, else the configured priority. */
  replicasFor (replicas?: number, priority?: 'high' | 'low'): number {
    return replicas ?? PRIORITY_REPLICAS[priority ?? this.init.config.replication.priority]
  }

  /** Delete a backup everywhere; holders offline now are told when they are back. */
  async rm (ref: string): Promise<RmResult> {
    const entry = await this.catalogEntry(ref)
    // tombstones first: a crash after this point still deletes everywhere
    const byHolder = dropsByHolder([{ cid: entry.id, holders: entry.manifest.holders }, ...entry.chunks], await this.catalog.referenced(entry.id))
    await this.queueDrops(byHolder)
    await this.catalog.delete(entry.id)
    await Promise.all([...byHolder.keys()].map(async h => this.outbox.flush(h)))
    let pending = 0
    for (const holder of byHolder.keys()) if (await this.outbox.pendingFor(holder)) pending++
    return { id: entry.id, name: entry.name, holders: byHolder.size, pending }
  }

  /** Tombstones in the outbox: each holder is to drop its copies of these chunks (see `dropsByHolder`). */
  private async queueDrops (byHolder: Map<string, string[]>): Promise<void> {
    for (const [holder, cids] of byHolder) await this.outbox.queueDelete(holder, cids)
  }

  /**
   * A put that failed, was cancelled or died with the node: tell the holders
   * to drop what it stored, except what a backup or a put still running
   * uses (through the outbox, so holders offline now hear it later).
   */
  async abandon (put: PendingPut, graceMs = 0): Promise<void> {
    // copies already sent may still be on their way to a holder
    if (graceMs > 0) await delay(graceMs, this.controller.signal)
    const placed = await put.placed()
    const used = await this.catalog.referenced()
    // a put of this run still going may have sent the same chunk
    for (const cid of await this.livePutChunks(put)) used.add(cid)
    const byHolder = dropsByHolder(placed, used)
    try {
      await this.queueDrops(byHolder)
    } catch (err: any) {
      // no room for tombstones (a full disk, which may be why the put failed): tell the holders now
      log('could not queue the drops of an interrupted put (%s); telling %d holders now', err.message, byHolder.size)
      await Promise.all([...byHolder].map(async ([holder, cids]) => this.outbox.deleteNow(holder, cids).catch(() => {})))
      // its records, if any were written, are found again at the next start
      await put.end().catch(() => {})
      return
    }
    await put.end()
    if (placed.length > 0) log('an interrupted put stored %d chunks; %d holders told to drop them', placed.length, byHolder.size)
    await Promise.all([...byHolder.keys()].map(async h => this.outbox.flush(h).catch(() => {})))
  }

  /** The chunks that the puts of this run still going (but `except`) placed. */
  private async livePutChunks (except?: PendingPut): Promise<Set<string>> {
    const cids = new Set<string>()
    for (const put of this.journal.live()) {
      if (put.id === except?.id) continue
      for (const p of await put.placed()) cids.add(p.cid)
    }
    return cids
  }

  /**
   * A holder handed our chunks on to `to`: where the catalog has it as their
   * holder, `to` takes its place. A copy the catalog did not have it for (one
   * it had been told to drop after repair replaced it, and handed on first)
   * is surplus at `to` too: `to` is told to drop it, or nothing would ever
   * delete that copy.
   */
  private async moved (from: string, to: string, cids: string[]): Promise<void> {
    await this.catalog.moveHolder(from, to, new Set(cids))
    const recorded = await this.catalog.holdersOf()
    const stray = cids.filter(cid => recorded.get(cid)?.has(to) !== true).map(cid => ({ cid, holders: [to] }))
    if (stray.length === 0) return
    const byHolder = dropsByHolder(stray, await this.livePutChunks())
    await this.queueDrops(byHolder)
    if (byHolder.size > 0) log('%s handed on %d chunks it was not recorded for; %s told to drop them', from, stray.length, to)
    // not awaited: the holder waits for this answer
    this.outbox.flush(to).catch(() => {})
  }

  /** Check replicas and repair: every backup, or the one named. */
  async verify (ref?: string, signal?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    const ids = ref != null ? [(await this.catalogEntry(ref)).id] : undefined
    return this.repairer.verify(ids, signal, onProgress)
  }

  /** Lower the storage limit (kept in the repo's config.json) and free space down to it. */
  async reclaim (limit: number, signal?: AbortSignal, onProgress?: ProgressFn): Promise<ReclaimResult> {
    await updateRepoConfig(repoPaths(this.init.repo).config, { storage: { limit } })
    return this.reclaimer.reclaim(limit, signal, onProgress)
  }

  /** A backup of ours by id, else the newest of that name. */
  private async catalogEntry (ref: string): Promise<CatalogEntry> {
    const entry = await this.catalog.find(ref)
    if (entry == null) throw new NotFoundError(`no backup ${ref}: 'backpack ls' lists them`)
    return entry
  }

  async status (): Promise<StatusResult> {
    const { libp2p } = this.components
    return {
      peerId: libp2p.peerId.toString(),
      addrs: libp2p.getMultiaddrs().map(ma => ma.toString()),
      peers: libp2p.getPeers().length,
      storage: { used: this.store.used, limit: this.store.limit },
      backups: await this.catalog.count(),
      memory: (({ rss, heapUsed, external, arrayBuffers }) => ({ rss, heapUsed, external, arrayBuffers }))(process.memoryUsage())
    }
  }

  /** Connected peers with the addresses they listen on (as identify told), else the connection's. */
  async peerList (): Promise<PeerResult[]> {
    const { libp2p } = this.components
    return Promise.all(libp2p.getPeers().map(async peer => {
      const id = peer.toString()
      const known = await libp2p.peerStore.get(peer).then(p => p.addresses.map(a => a.multiaddr), () => [])
      const addrs = known.length > 0 ? known : libp2p.getConnections(peer).map(conn => conn.remoteAddr)
      return {
        peerId: id,
        addrs: addrs.map(ma => ma.getComponents().some(c => c.name === 'p2p') ? ma.toString() : `${ma.toString()}/p2p/${id}`)
      }
    }))
  }
}

/**
 * The chunks each holder is to drop: every copy of `chunks` except those in
 * `used` (another backup, or a put, needs them).
 */
function dropsByHolder (chunks: Placed[], used: Set<string>): Map<string, string[]> {
  const byHolder = new Map<string, string[]>()
  for (const { cid, holders } of chunks) {
    if (used.has(cid)) continue
    for (const h of holders) byHolder.set(h, [...(byHolder.get(h) ?? []), cid])
  }
  return byHolder
}
