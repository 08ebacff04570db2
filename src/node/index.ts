import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { dialOnDiscovery } from './discovery.js'
import { PeerCacheDatastore } from './peer-cache.js'
import type { Identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Libp2p, PeerDiscovery, PrivateKey, ComponentLogger } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

export type BackpackServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
}

export type BackpackLibp2p = Libp2p<BackpackServices>

/** A connection whose ping takes longer than this is given up as dead. */
export const PING_MIN_TIMEOUT_MS = 30_000
export const PING_MAX_TIMEOUT_MS = 60_000
/** Ping streams at once per connection (the default, 2 in and 1 out, is met by the DHT and the connection monitor together) */
export const PING_MAX_STREAMS = 16

export interface NodeComponents {
  privateKey: PrivateKey
  datastore: Datastore
  logger?: ComponentLogger
}

export interface NodeInit {
  listen: string[]
  bootstrap: string[]
  mdns: boolean
  /** @default 10000 */
  mdnsIntervalMs?: number
  /** The contents of a swarm key file: join only the private network that shares it */
  swarmKey?: Uint8Array
  /** Multiaddrs (ipcidr) exempt from connection limits and inbound rate limits */
  allow: string[]
  maxConnections: number
  dhtProtocol: string
}

/**
 * The libp2p node of backpack: TCP, noise, yamux, identify, ping, a private
 * kad-dht in server mode that keeps LAN and loopback addresses, mDNS and
 * bootstrap discovery.
 */
export async function createNode (components: NodeComponents, init: NodeInit): Promise<BackpackLibp2p> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (init.bootstrap.length > 0) {
    peerDiscovery.push(bootstrap({ list: init.bootstrap }))
  }
  if (init.mdns) {
    peerDiscovery.push(dialOnDiscovery(mdns({ interval: init.mdnsIntervalMs ?? 10_000 })))
  }
  return createLibp2p({
    privateKey: components.privateKey,
    // the peer store's records are read on every merge: keep them in memory too
    datastore: new PeerCacheDatastore(components.datastore),
    logger: components.logger,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: init.swarmKey != null ? preSharedKey({ psk: init.swarmKey }) : undefined,
    peerDiscovery,
    connectionManager: {
      allow: init.allow,
      maxConnections: init.maxConnections
    },
    // The monitor pings every connection and aborts it when a ping is late.
    // Behind megabytes of chunks on a busy connection, and with the DHT's own
    // pings sharing the protocol's stream limit, a live peer's ping can be
    // late or refused: the whole connection, and every transfer on it, went.
    connectionMonitor: {
      pingTimeout: { minTimeout: PING_MIN_TIMEOUT_MS, maxTimeout: PING_MAX_TIMEOUT_MS }
    },
    services: {
      identify: identify(),
      ping: ping({ maxInboundStreams: PING_MAX_STREAMS, maxOutboundStreams: PING_MAX_STREAMS }),
      dht: kadDHT({
        protocol: init.dhtProtocol,
        clientMode: false,
        // the default mapper drops private and loopback addresses: on a LAN
        // the routing tables would stay empty
        peerInfoMapper: passthroughMapper
      })
    }
  })
}
