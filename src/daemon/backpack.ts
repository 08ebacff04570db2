import { logger } from '@libp2p/logger'
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
 * A running backpack node: the libp2p node and the services on top of it.
 * The control API calls its methods.
 */
export class Backpack {
  readonly components: BackpackComponents
  readonly init: BackpackInit

  constructor (components: BackpackComponents, init: BackpackInit) {
    this.components = components
    this.init = init
  }

  async start (): Promise<void> {
    log('started as %p', this.components.libp2p.peerId)
  }

  async stop (): Promise<void> {
  }

  async status (): Promise<StatusResult> {
    const { libp2p } = this.components
    return {
      peerId: libp2p.peerId.toString(),
      addrs: libp2p.getMultiaddrs().map(ma => ma.toString()),
      peers: libp2p.getPeers().length,
      storage: { used: 0, limit: this.init.config.storage.limit },
      backups: 0
    }
  }

  /** Connected peers with the addresses they listen on (as identify told), else the connection's. */
  async peers (): Promise<PeerResult[]> {
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
