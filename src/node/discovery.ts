import { logger } from '@libp2p/logger'
import type { AbortOptions, Connection, PeerDiscovery, PeerId, PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const log = logger('backpack:discovery')

/** How long one dial of a discovered peer may take. */
export const DEFAULT_DISCOVERY_DIAL_TIMEOUT_MS = 10_000

/** What the wrapper needs of libp2p's connection manager (an internal interface). */
export interface DialingComponents {
  connectionManager: {
    getConnections: (peerId?: PeerId) => Connection[]
    openConnection: (peer: PeerId | Multiaddr | Multiaddr[], options?: AbortOptions) => Promise<Connection>
  }
}

/**
 * Wrap a peer discovery so that every peer it finds is dialed. libp2p 3
 * does not dial discovered peers by itself (`@libp2p/bootstrap` dials its
 * own list, `@libp2p/mdns` only reports): without this, nodes on a LAN see
 * each other's mDNS answers and never connect.
 */
export function dialOnDiscovery<C> (factory: (components: C) => PeerDiscovery, timeoutMs = DEFAULT_DISCOVERY_DIAL_TIMEOUT_MS): (components: C & DialingComponents) => PeerDiscovery {
  return components => {
    const discovery = factory(components)
    const dialing = new Set<string>()
    discovery.addEventListener('peer', (evt: CustomEvent<PeerInfo>) => {
      const { id, multiaddrs } = evt.detail
      const key = id.toString()
      // mDNS reports a peer on every query answer: dial once, and only while unconnected
      if (dialing.has(key) || components.connectionManager.getConnections(id).length > 0) return
      dialing.add(key)
      components.connectionManager.openConnection(multiaddrs.length > 0 ? multiaddrs : id, { signal: AbortSignal.timeout(timeoutMs) })
        .then(() => { log('connected to discovered peer %p', id) })
        .catch((err: unknown) => { log('could not dial discovered peer %p: %e', id, err) })
        .finally(() => { dialing.delete(key) })
    })
    return discovery
  }
}
