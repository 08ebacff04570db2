import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { Backups } from '../backup/index.js'
import { Catalog } from '../catalog/catalog.js'
import { BlobWorkers } from '../workers/index.js'
import { Deletes } from '../replication/deletes.js'
import { Fetcher } from '../replication/fetcher.js'
import { DataCipher } from '../chunking/cipher.js'
import { ChunkClient } from '../protocol/client.js'
import { Credits } from '../replication/credit.js'
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
import { recoverCatalog } from '../backup/recover.js'
import { applyRetention, isEmptyPolicy } from '../backup/retention.js'
import { DEFAULT_MISSED_RUN_DELAY_MS, Scheduler } from '../backup/schedule.js'
import { sourcesKey } from '../catalog/catalog.js'
import type { ScheduledBackup, ScheduleStatus } from '../backup/schedule.js'
import type { RetentionPolicy } from '../backup/retention.js'
import type { RemoveResult } from '../replication/deletes.js'
import { parseDuration } from '../util/duration.js'
import { PutJournal, RestoreJournal } from '../catalog/journal.js'
import type { ProgressFn } from '../util/progress.js'
import { pathExists } from '../util/fs.js'
import { updateRepoConfig } from '../repo/config.js'
import { repoPaths } from '../repo/index.js'
import type { ReclaimResult } from '../replication/reclaim.js'
import type { VerifyResult } from '../replication/repair.js'
import { ChunkStore } from '../store/index.js'
import { PRIORITY_REPLICAS } from '../repo/config.js'
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
  /** `users`: the peers whose chunks take the most of this node's disk, largest first */
  storage: { used: number, limit: number, users: Array<{ peer: string, bytes: number }> }
  snapshots: number
  /** Snapshots below their desired replicas */
  degraded: number
  schedule: ScheduleStatus[]
  /** The daemon's memory, bytes (process.memoryUsage) */
  memory: { rss: number, heapUsed: number, external: number, arrayBuffers: number }
}

/** A lowered storage limit is acted on this long after start, when peers are connected. */
export const RECLAIM_AT_START_DELAY_MS = 5_000
/** …and retried this often while storage is over the limit. */
export const RECLAIM_RETRY_MS = 30_000
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
  /** What each peer holds for this node: it may store as much more here */
  readonly credits: Credits
  readonly handler: ChunkHandler
  readonly peers: BackpackPeers
  readonly placement: Placement
  readonly announcer: Announcer
  readonly groups: HolderGroups
  readonly journal: PutJournal
  private readonly restores: RestoreJournal
  readonly fetcher: Fetcher
  readonly deletes: Deletes
  private readonly workers: BlobWorkers
  readonly backups: Backups
  readonly outbox: Outbox
  readonly repairer: Repairer
  readonly reclaimer: Reclaimer
  readonly leases: LeaseCollector
  readonly scrubber: Scrubber
  readonly mesh: Mesh
  private readonly groupLookup: GroupLookup
  readonly scheduler: Scheduler
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
      peerShare: config.storage.peerShare,
      creditOf: peer => this.credits.of(peer),
      onRemoved: () => { this.groups.scheduleSweep() }
    })
    this.groups = new HolderGroups({ datastore, announcer: this.announcer, held: () => this.store.claims.held() })
    this.catalog = new Catalog({ datastore })
    this.credits = new Credits({ catalog: this.catalog })
    this.journal = new PutJournal({ datastore })
    this.restores = new RestoreJournal({ datastore })
    this.client = new ChunkClient({ dialer: libp2p, privateKey: keys.privateKey }, { timeoutMs: config.transfer.requestTimeoutMs })
    this.handler = new ChunkHandler({ registrar: libp2p, store: this.store }, {
      onMoved: async (from, to, cids) => { await this.moved(from, to, cids.map(String)) },
      onGroup: async (owner, group, sender) => { await this.groups.stored(owner, group, sender) }
    })
    this.peers = new BackpackPeers({ libp2p })
    const group = holderGroup(keys.dataSecret)
    this.placement = new Placement({ peers: this.peers, client: this.client, ownGroup: group, groupOf: owner => this.groups.groupOf(owner) })
    const groupLookup = new GroupLookup({ contentRouting: libp2p.contentRouting }, group, { timeoutMs: GROUP_LOOKUP_TIMEOUT_MS })
    this.fetcher = new Fetcher({ peerId: libp2p.peerId, peerIdFromString, client: this.client, peers: this.peers, groupLookup }, {
      // a copy a get or a repair found bad is audited, and replaced when it fails
      onBadCopy: (cid, holder) => { this.repairer.auditSoon(cid.toString(), holder) }
    })
    this.outbox = new Outbox({ datastore, client: this.client, peers: this.peers, peerIdFromString }, {
      retryMs: DEFAULT_OUTBOX_RETRY_MS,
      holdersOf: async () => this.catalog.holdersOf()
    })
    this.deletes = new Deletes({ catalog: this.catalog, outbox: this.outbox })
    this.workers = new BlobWorkers({ dataSecret: keys.dataSecret })
    this.groupLookup = groupLookup
    this.backups = new Backups({
      peerId: libp2p.peerId,
      cipher: new DataCipher(keys.dataSecret),
      catalog: this.catalog,
      journal: this.journal,
      restores: this.restores,
      fetcher: this.fetcher,
      client: this.client,
      peers: this.peers,
      placement: this.placement,
      deletes: this.deletes,
      workers: this.workers
    }, {
      chunking: config.chunking,
      packBytes: config.chunking.packSize,
      compression: config.compression,
      chunksInFlight: config.transfer.chunksInFlight,
      exclude: config.exclude,
      proofMaxAgeMs: config.replication.auditIntervalMs + config.replication.repairIntervalMs
    })
    const backups = config.backups.map(b => ({ paths: b.paths, every: parseDuration(b.every) ?? 0, everyText: b.every, exclude: b.exclude, priority: b.priority }))
    this.scheduler = new Scheduler({ datastore, run: async (entry, signal) => this.scheduledRun(entry, signal) }, {
      backups,
      // a schedule of seconds (a test, a demo) does not wait ten of them
      missedRunDelayMs: Math.min(DEFAULT_MISSED_RUN_DELAY_MS, ...backups.map(b => b.every))
    })
    this.repairer = new Repairer({
      peerId: libp2p.peerId,
      peerIdFromString,
      catalog: this.catalog,
      peers: this.peers,
      placement: this.placement,
      renew: async (peer, cids, signal) => this.client.renew(peer, cids, { signal }),
      // one pass: a chunk that cannot be had now is tried again on the next repair
      fetch: async (cid, holders, signal) => this.fetcher.fetch(cid, { holders, rounds: 1, signal }),
      // queued (a tombstone), and sent now where the holder is connected
      forget: async (holder, cids) => {
        await this.outbox.queueDelete(holder, cids)
        void this.outbox.flush(holder)
      },
      audit: async (peer, asks, signal) => this.client.audit(peer, asks, { signal })
    }, {
      intervalMs: config.replication.repairIntervalMs,
      auditIntervalMs: config.replication.auditIntervalMs,
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
    await this.scheduler.start()
    if (this.store.used > this.store.limit) this.scheduleReclaim(RECLAIM_AT_START_DELAY_MS)
    // puts that died with the last run: drop what they stored (before any new put reuses it)
    const leftovers = await this.journal.leftovers()
    if (leftovers.length > 0) {
      void this.backups.lock.run(async () => {
        for (const put of leftovers) await this.deletes.abandon(put, 0).catch(err => { log('cleaning up an interrupted put failed: %s', err.message) })
      })
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
          const { cipher } = this.backups.components
          const result = await recoverCatalog({
            peerId: this.components.libp2p.peerId,
            client: this.client,
            catalog: this.catalog,
            groupLookup: this.groupLookup,
            cipher,
            fetcher: this.fetcher,
            trees: this.backups.trees
          }, this.controller.signal)
          log('catalog recovery: %d holders, %d answered, %d snapshots added', result.holders, result.answered, result.added)
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
    await this.scheduler.stop()
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
    await this.workers.stop()
    await this.store.stop()
  }

  /** Replicas a put makes: `--replicas`, else `--priority`, else the configured priority. */
  replicasFor (replicas?: number, priority?: 'high' | 'low'): number {
    return replicas ?? PRIORITY_REPLICAS[priority ?? this.init.config.replication.priority]
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
    const stray: string[] = []
    for (const cid of cids) {
      const record = await this.catalog.pack(cid)
      if (record?.holders.includes(to) !== true) stray.push(cid)
      // the new holder has proven nothing yet: its copy is audited now
      else if (record.root != null) this.repairer.auditSoon(cid, to)
    }
    if (stray.length === 0) return
    await this.outbox.queueDelete(to, stray)
    log('%s handed on %d chunks it was not recorded for; %s told to drop them', from, stray.length, to)
    // not awaited: the holder waits for this answer
    this.outbox.flush(to).catch(() => {})
  }

  /** Delete snapshots everywhere; holders offline now are told when they are back. */
  async rm (refs: string[]): Promise<RemoveResult> {
    const ids = new Set<string>()
    for (const ref of refs) ids.add((await this.backups.mustSnapshot(ref)).id)
    return this.backups.lock.run(async () => this.deletes.removeSnapshots([...ids]))
  }

  /**
   * Delete the snapshots a retention policy does not keep (config
   * `retention` when none is given); with `dryRun`, only say which.
   */
  async forget (given: RetentionPolicy | undefined, dryRun: boolean): Promise<{ kept: string[], removed: string[], reasons: Record<string, string[]> }> {
    const policy = given ?? this.configuredRetention()
    return this.backups.lock.run(async () => {
      const snapshots = await this.catalog.snapshots()
      const decision = isEmptyPolicy(policy)
        ? { keep: snapshots.map(s => ({ id: s.id, reasons: ['no policy'] })), remove: [] }
        : applyRetention(snapshots, policy)
      if (!dryRun && decision.remove.length > 0) await this.deletes.removeSnapshots(decision.remove)
      return {
        kept: decision.keep.map(k => k.id),
        removed: decision.remove,
        reasons: Object.fromEntries(decision.keep.map(k => [k.id, k.reasons]))
      }
    })
  }

  /** One scheduled backup: a snapshot as `put` makes it, then retention for its sources. */
  private async scheduledRun (entry: ScheduledBackup, signal: AbortSignal): Promise<'ok' | 'degraded'> {
    const result = await this.backups.put({ paths: entry.paths, exclude: entry.exclude, replicas: this.replicasFor(undefined, entry.priority), signal })
    for (const line of result.warnings) log('scheduled backup of %s: %s', entry.paths.join(' '), line)
    log('scheduled backup of %s: snapshot %s, %d/%d replicas', entry.paths.join(' '), result.id, result.replicas.actual, result.replicas.desired)
    const policy = this.configuredRetention()
    if (!isEmptyPolicy(policy)) {
      await this.backups.lock.run(async () => {
        const key = sourcesKey(result.sources)
        const decision = applyRetention((await this.catalog.snapshots()).filter(s => sourcesKey(s.sources) === key), policy)
        if (decision.remove.length > 0) await this.deletes.removeSnapshots(decision.remove)
      })
    }
    return result.degraded != null ? 'degraded' : 'ok'
  }

  private configuredRetention (): RetentionPolicy {
    const { keepWithin, ...counts } = this.init.config.retention
    return { ...counts, ...(keepWithin != null ? { keepWithin: parseDuration(keepWithin) } : {}) }
  }

  /** Check replicas and repair: every snapshot, or the one named. */
  async verify (ref?: string, signal?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    const ids = ref != null ? [(await this.backups.mustSnapshot(ref)).id] : undefined
    return this.repairer.verify(ids, signal, onProgress)
  }

  /** Lower the storage limit (kept in the repo's config.json) and free space down to it. */
  async reclaim (limit: number, signal?: AbortSignal, onProgress?: ProgressFn): Promise<ReclaimResult> {
    await updateRepoConfig(repoPaths(this.init.repo).config, { storage: { limit } })
    return this.reclaimer.reclaim(limit, signal, onProgress)
  }

  async status (): Promise<StatusResult> {
    const { libp2p } = this.components
    const snapshots = await this.backups.list()
    return {
      peerId: libp2p.peerId.toString(),
      addrs: libp2p.getMultiaddrs().map(ma => ma.toString()),
      peers: libp2p.getPeers().length,
      storage: { used: this.store.used, limit: this.store.limit, users: this.store.claims.users() },
      snapshots: snapshots.length,
      degraded: snapshots.filter(s => s.replicas.actual < s.replicas.desired).length,
      schedule: this.scheduler.status(),
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

