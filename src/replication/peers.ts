import { createHash } from 'node:crypto'
import { logger } from '@libp2p/logger'
import { CHUNK_PROTOCOL } from '../protocol/constants.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:peers')

export interface BackpackPeersComponents {
  libp2p: Pick<Libp2p, 'register' | 'unregister' | 'peerId'>
}

/**
 * The connected peers that speak the chunk protocol, kept by a libp2p
 * topology, and their order of preference for a chunk: closest first by XOR
 * distance between SHA-256 of the peer id and of the chunk's multihash, as
 * in the DHT's keyspace.
 */
export class BackpackPeers {
  private readonly components: BackpackPeersComponents
  private readonly peers = new Map<string, { id: PeerId, key: Buffer }>()
  private topologyId?: string
  private readonly listeners = new Set<(peer: PeerId, connected: boolean) => void>()

  constructor (components: BackpackPeersComponents) {
    this.components = components
  }

  async start (): Promise<void> {
    this.topologyId = await this.components.libp2p.register(CHUNK_PROTOCOL, {
      onConnect: (peer) => {
        const key = peer.toString()
        if (this.peers.has(key)) return
        this.peers.set(key, { id: peer, key: dhtKey(peer.toMultihash().bytes) })
        log('peer %p connected', peer)
        for (const fn of this.listeners) fn(peer, true)
      },
      onDisconnect: (peer) => {
        if (!this.peers.delete(peer.toString())) return
        log('peer %p disconnected', peer)
        for (const fn of this.listeners) fn(peer, false)
      }
    })
  }

  async stop (): Promise<void> {
    if (this.topologyId != null) this.components.libp2p.unregister(this.topologyId)
    this.topologyId = undefined
    this.peers.clear()
  }

  /** Be told when a backpack peer connects or disconnects. */
  onChange (fn: (peer: PeerId, connected: boolean) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  list (): PeerId[] {
    return [...this.peers.values()].map(p => p.id)
  }

  isConnected (peer: string): boolean {
    return this.peers.has(peer)
  }

  get (peer: string): PeerId | undefined {
    return this.peers.get(peer)?.id
  }

  /** Connected peers ordered by closeness to the chunk, without `exclude`. */
  rank (cid: CID, exclude: Set<string> = new Set()): PeerId[] {
    const target = dhtKey(cid.multihash.bytes)
    return [...this.peers.entries()]
      .filter(([id]) => !exclude.has(id))
      .map(([, p]) => ({ id: p.id, distance: xor(p.key, target) }))
      .sort((a, b) => Buffer.compare(a.distance, b.distance))
      .map(p => p.id)
  }
}

function dhtKey (bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

function xor (a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i]
  return out
}
