import { logger } from '@libp2p/logger'
import { CHUNK_PROTOCOL } from '../protocol/constants.js'
import type { IdentifyResult, Libp2p, PeerId } from '@libp2p/interface'

const log = logger('backpack:mesh')

/** How often known but unconnected peers are dialed. */
export const DEFAULT_MESH_INTERVAL_MS = 5_000
export const MESH_DIAL_TIMEOUT_MS = 10_000
/** Wait after a first failed dial; it doubles with each failure. */
export const MESH_FIRST_BACKOFF_MS = 1_000
/** The protocol every libp2p peer lists once identify has run. */
const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0'
/** Longest wait before a peer that keeps failing is tried again. */
export const MESH_MAX_BACKOFF_MS = 5 * 60_000
/** First wait before asking the DHT for peers after a new one joined; it doubles after each query. */
export const DISCOVERY_FIRST_DELAY_MS = 1_000
/** Longest wait between two DHT queries for peers. */
export const DISCOVERY_MAX_DELAY_MS = 60_000
export const DISCOVERY_TIMEOUT_MS = 10_000

export interface MeshInit {
  intervalMs?: number
  /** Stop dialing at this many connections */
  maxConnections: number
  discoveryFirstDelayMs?: number
  discoveryMaxDelayMs?: number
}

export type MeshLibp2p = Pick<Libp2p, 'peerStore' | 'getConnections' | 'dial' | 'peerId' | 'peerRouting' | 'addEventListener' | 'removeEventListener'>

/**
 * Keeps this node connected to every backpack peer it knows of (from
 * bootstrap, mDNS, the DHT, or the peer store of an earlier run). The
 * networks backpack is for (a home, a lab, an office) are small, and
 * placement, repair and reclaim choose among connected peers: a full mesh
 * is what they need. A peer that fails is retried with exponential backoff.
 *
 * The DHT tells a node of the others when it first joins, but not of those
 * that join after it: two nodes that start together, each through the same
 * bootstrap node, can each ask before the other was known there and never
 * meet. So the mesh asks the DHT for the peers closest to itself again
 * soon after each new backpack peer appears, then less and less often (at
 * least every minute), and dials whatever it learns.
 */
export class Mesh {
  private timer?: NodeJS.Timeout
  private discoveryTimer?: NodeJS.Timeout
  private discoveryDelayMs: number
  private discovering = false
  private controller?: AbortController
  private readonly backoff = new Map<string, { until: number, delayMs: number }>()
  private readonly dialing = new Set<string>()
  private readonly members = new Set<string>()

  constructor (private readonly components: { libp2p: MeshLibp2p }, private readonly init: MeshInit) {
    this.discoveryDelayMs = init.discoveryFirstDelayMs ?? DISCOVERY_FIRST_DELAY_MS
  }

  start (): void {
    this.controller = new AbortController()
    const tick = (): void => {
      this.timer = setTimeout(() => { this.run().catch(err => log.error('mesh pass failed %e', err)).finally(tick) }, this.init.intervalMs ?? DEFAULT_MESH_INTERVAL_MS)
      this.timer.unref()
    }
    tick()
    this.components.libp2p.addEventListener('peer:identify', this.onIdentify)
    this.components.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    this.scheduleDiscovery(this.discoveryDelayMs)
  }

  stop (): void {
    this.components.libp2p.removeEventListener('peer:identify', this.onIdentify)
    this.components.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    this.controller?.abort()
    clearTimeout(this.timer)
    clearTimeout(this.discoveryTimer)
    this.timer = undefined
    this.discoveryTimer = undefined
  }

  private readonly onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = event.detail
    const key = peerId.toString()
    if (!protocols.includes(CHUNK_PROTOCOL) || this.members.has(key)) return
    this.members.add(key)
    // a new peer: what it knows may be news here, and the peers it knows
    // may not know of this node
    this.discoveryDelayMs = this.init.discoveryFirstDelayMs ?? DISCOVERY_FIRST_DELAY_MS
    this.scheduleDiscovery(this.discoveryDelayMs)
  }

  /** A peer that comes back after a restart is news again. */
  private readonly onDisconnect = (event: CustomEvent<PeerId>): void => {
    this.members.delete(event.detail.toString())
  }

  private scheduleDiscovery (delayMs: number): void {
    if (this.controller == null || this.controller.signal.aborted) return
    clearTimeout(this.discoveryTimer)
    this.discoveryTimer = setTimeout(() => {
      this.discover()
        .catch(err => log('asking the DHT for peers failed: %s', err.message))
        .finally(() => {
          this.discoveryDelayMs = Math.min(this.discoveryDelayMs * 2, this.init.discoveryMaxDelayMs ?? DISCOVERY_MAX_DELAY_MS)
          this.scheduleDiscovery(this.discoveryDelayMs)
        })
    }, delayMs)
    this.discoveryTimer.unref()
  }

  /** Ask the DHT for the peers closest to this node, then dial the new ones. */
  async discover (): Promise<void> {
    if (this.discovering || this.controller == null) return
    this.discovering = true
    try {
      const { libp2p } = this.components
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(DISCOVERY_TIMEOUT_MS)])
      let found = 0
      for await (const peer of libp2p.peerRouting.getClosestPeers(libp2p.peerId.toMultihash().bytes, { signal })) {
        if (!peer.id.equals(libp2p.peerId)) found++
      }
      log('the DHT knows %d peers close to this node', found)
      await this.run()
    } finally {
      this.discovering = false
    }
  }

  async run (): Promise<void> {
    const { libp2p } = this.components
    const connected = new Set(libp2p.getConnections().map(c => c.remotePeer.toString()))
    const now = Date.now()
    for (const peer of await libp2p.peerStore.all()) {
      if (connected.size >= this.init.maxConnections) return
      const key = peer.id.toString()
      if (peer.id.equals(libp2p.peerId) || connected.has(key) || this.dialing.has(key) || peer.addresses.length === 0) continue
      // peers the DHT told of have no protocols yet, or only the one a stream
      // of theirs used; only a peer that identified itself without the chunk
      // protocol is of another kind and left alone
      if (peer.protocols.includes(IDENTIFY_PROTOCOL) && !peer.protocols.includes(CHUNK_PROTOCOL)) continue
      const wait = this.backoff.get(key)
      if (wait != null && wait.until > now) continue
      this.dialing.add(key)
      connected.add(key)
      libp2p.dial(peer.id, { signal: AbortSignal.timeout(MESH_DIAL_TIMEOUT_MS) })
        .then(() => {
          this.backoff.delete(key)
          log('connected to %p', peer.id)
        }, (err: Error) => {
          const delayMs = Math.min(wait != null ? wait.delayMs * 2 : MESH_FIRST_BACKOFF_MS, MESH_MAX_BACKOFF_MS)
          this.backoff.set(key, { until: Date.now() + delayMs, delayMs })
          log('dialing %p failed, next try in %d ms: %s', peer.id, delayMs, err.message)
        })
        .finally(() => { this.dialing.delete(key) })
    }
  }
}
