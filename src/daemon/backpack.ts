import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { Backups } from '../backup/index.js'
import { Catalog } from '../backup/catalog.js'
import { DataCipher } from '../chunking/cipher.js'
import { ChunkClient } from '../protocol/client.js'
import { ChunkHandler } from '../protocol/handler.js'
import { Announcer } from '../replication/announcer.js'
import { BackpackPeers } from '../replication/peers.js'
import { Placement } from '../replication/placement.js'
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
  storage: { used: number, limit: number }
  backups: number
}

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
  readonly backups: Backups

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
      onAdded: cid => { this.announcer.announce(cid) },
      onRemoved: cid => { this.announcer.withdraw(cid) }
    })
    this.catalog = new Catalog({ datastore })
    this.client = new ChunkClient({ dialer: libp2p }, { timeoutMs: config.transfer.requestTimeoutMs })
    this.handler = new ChunkHandler({ registrar: libp2p, store: this.store })
    this.peers = new BackpackPeers({ libp2p })
    this.placement = new Placement({ peers: this.peers, client: this.client })
    this.backups = new Backups({
      peerId: libp2p.peerId,
      peerIdFromString,
      contentRouting: libp2p.contentRouting,
      cipher: new DataCipher(keys.dataSecret),
      client: this.client,
      peers: this.peers,
      placement: this.placement,
      catalog: this.catalog
    }, {
      chunkSize: config.chunking.size,
      chunksInFlight: config.transfer.chunksInFlight
    })
  }

  async start (): Promise<void> {
    await this.store.start()
    await this.handler.start()
    await this.peers.start()
    this.announcer.start()
    log('started as %p', this.components.libp2p.peerId)
  }

  async stop (): Promise<void> {
    await this.announcer.stop()
    await this.peers.stop()
    await this.handler.stop()
    await this.client.stop()
    await this.store.stop()
  }

  /** Replicas a put makes: `--replicas`, else `--priority`, else the configured priority. */
  replicasFor (replicas?: number, priority?: 'high' | 'low'): number {
    return replicas ?? PRIORITY_REPLICAS[priority ?? this.init.config.replication.priority]
  }

  async status (): Promise<StatusResult> {
    const { libp2p } = this.components
    return {
      peerId: libp2p.peerId.toString(),
      addrs: libp2p.getMultiaddrs().map(ma => ma.toString()),
      peers: libp2p.getPeers().length,
      storage: { used: this.store.used, limit: this.store.limit },
      backups: await this.catalog.count()
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
