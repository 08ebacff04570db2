import { createHash } from 'node:crypto'
import { logger } from '@libp2p/logger'
import { CHUNK_PROTOCOL } from '../protocol/constants.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:peers')

export interface BackpackPeersComponents {
  libp2p: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'peerStore' | 'getPeers'>
}

/**
 * The connected peers that speak the chunk protocol, and their order of
 * preference for a chunk by rendezvous hashing: highest SHA-256 of the peer
 * id and the chunk's multihash first. Every peer is first for an equal share
 * of the chunks (XOR distance, as in the DHT's keyspace, gave one of three
 * peers half of them), and a peer that joins or leaves moves only the chunks
 * it ranks first for.
 *
 * Which peers speak the protocol is learned from identify and the peer
 * store; whether they are connected is asked of libp2p each time, since
 * connection events race when two peers dial each other at once or a peer
 * restarts with the same id.
 */
export class BackpackPeers {
  private readonly components: BackpackPeersComponents
  /** Peers known to serve the chunk protocol, with their multihash bytes */
  private readonly speakers = new Map<string, { id: PeerId, key: Uint8Array }>()
  private readonly listeners = new Set<(peer: PeerId, connected: boolean) => void>()

  constructor (components: BackpackPeersComponents) {
    this.components = components
  }

  private readonly onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    if (evt.detail.protocols.includes(CHUNK_PROTOCOL)) this.learn(evt.detail.peerId)
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    this.components.libp2p.peerStore.get(peer).then(p => {
      if (p.protocols.includes(CHUNK_PROTOCOL)) this.learn(peer)
    }, () => {})
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    if (this.speakers.has(peer.toString()) && !this.isConnected(peer.toString())) {
      log('peer %p disconnected', peer)
      for (const fn of this.listeners) fn(peer, false)
    }
  }

  async start (): Promise<void> {
    const { libp2p } = this.components
    libp2p.addEventListener('peer:identify', this.onIdentify)
    libp2p.addEventListener('peer:connect', this.onConnect)
    libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    // peers that connected before these listeners were added
    for (const peer of libp2p.getPeers()) {
      this.onConnect(new CustomEvent('peer:connect', { detail: peer }))
    }
  }

  async stop (): Promise<void> {
    const { libp2p } = this.components
    libp2p.removeEventListener('peer:identify', this.onIdentify)
    libp2p.removeEventListener('peer:connect', this.onConnect)
    libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    this.speakers.clear()
  }

  /** A connected peer serves the chunk protocol: tell the listeners. */
  private learn (peer: PeerId): void {
    const key = peer.toString()
    if (!this.speakers.has(key)) this.speakers.set(key, { id: peer, key: peer.toMultihash().bytes })
    log('peer %p connected', peer)
    for (const fn of this.listeners) fn(peer, true)
  }

  /** Be told when a backpack peer connects or disconnects. */
  onChange (fn: (peer: PeerId, connected: boolean) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  private connected (): Set<string> {
    return new Set(this.components.libp2p.getPeers().map(p => p.toString()))
  }

  list (): PeerId[] {
    const connected = this.connected()
    return [...this.speakers.values()].filter(p => connected.has(p.id.toString())).map(p => p.id)
  }

  isConnected (peer: string): boolean {
    return this.speakers.has(peer) && this.components.libp2p.getPeers().some(p => p.toString() === peer)
  }

  get (peer: string): PeerId | undefined {
    return this.speakers.get(peer)?.id
  }

  /** Connected peers in order of preference for the chunk, without `exclude`. */
  rank (cid: CID, exclude: Set<string> = new Set()): PeerId[] {
    const connected = this.connected()
    const candidates = [...this.speakers.entries()].filter(([id]) => !exclude.has(id) && connected.has(id)).map(([, p]) => p)
    return rendezvous(candidates, cid.multihash.bytes).map(p => p.id)
  }
}

/**
 * Rendezvous (highest random weight) order of `peers` for `target`: by
 * SHA-256 of the peer's key and the target, highest first.
 */
export function rendezvous<P extends { key: Uint8Array }> (peers: P[], target: Uint8Array): P[] {
  return peers
    .map(peer => ({ peer, weight: createHash('sha256').update(peer.key).update(target).digest() }))
    .sort((a, b) => Buffer.compare(b.weight, a.weight))
    .map(p => p.peer)
}
