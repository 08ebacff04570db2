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
 * preference for a chunk: closest first by XOR distance between SHA-256 of
 * the peer id and of the chunk's multihash, as in the DHT's keyspace.
 *
 * Which peers speak the protocol is learned from identify and the peer
 * store; whether they are connected is asked of libp2p each time, since
 * connection events race when two peers dial each other at once or a peer
 * restarts with the same id.
 */
export class BackpackPeers {
  private readonly components: BackpackPeersComponents
  /** Peers known to serve the chunk protocol, with their DHT keys */
  private readonly speakers = new Map<string, { id: PeerId, key: Buffer }>()
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
    if (!this.speakers.has(key)) this.speakers.set(key, { id: peer, key: dhtKey(peer.toMultihash().bytes) })
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

  /** Connected peers ordered by closeness to the chunk, without `exclude`. */
  rank (cid: CID, exclude: Set<string> = new Set()): PeerId[] {
    const target = dhtKey(cid.multihash.bytes)
    const connected = this.connected()
    return [...this.speakers.entries()]
      .filter(([id]) => !exclude.has(id) && connected.has(id))
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
