import { logger } from '@libp2p/logger'
import { CHUNK_PROTOCOL } from '../protocol/constants.js'
import type { Libp2p } from '@libp2p/interface'

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

export interface MeshInit {
  intervalMs?: number
  /** Stop dialing at this many connections */
  maxConnections: number
}

/**
 * Keeps this node connected to every backpack peer it knows of (from
 * bootstrap, mDNS, the DHT, or the peer store of an earlier run). The
 * networks backpack is for (a home, a lab, an office) are small, and
 * placement, repair and reclaim choose among connected peers: a full mesh
 * is what they need. A peer that fails is retried with exponential backoff.
 */
export class Mesh {
  private timer?: NodeJS.Timeout
  private readonly backoff = new Map<string, { until: number, delayMs: number }>()
  private readonly dialing = new Set<string>()

  constructor (private readonly components: { libp2p: Pick<Libp2p, 'peerStore' | 'getConnections' | 'dial' | 'peerId'> }, private readonly init: MeshInit) {}

  start (): void {
    const tick = (): void => {
      this.timer = setTimeout(() => { this.run().catch(err => log.error('mesh pass failed %e', err)).finally(tick) }, this.init.intervalMs ?? DEFAULT_MESH_INTERVAL_MS)
      this.timer.unref()
    }
    tick()
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
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
