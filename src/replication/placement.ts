import { logger } from '@libp2p/logger'
import type { BackpackPeers } from './peers.js'
import type { ChunkClient } from '../protocol/client.js'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:placement')

export interface PlacementComponents {
  peers: BackpackPeers
  client: ChunkClient
}

/** State shared by the chunks of one operation: peers found full or failing. */
export interface PlacementSession {
  /** Peers that answered NO_SPACE */
  full: Set<string>
  /** Peers that failed (unreachable, timed out) */
  failed: Set<string>
}

export function newSession (): PlacementSession {
  return { full: new Set(), failed: new Set() }
}

export interface PlaceOptions {
  signal?: AbortSignal
  /** Peers that must not get a copy (the owner, current holders) */
  exclude?: Set<string>
  /** Set when handing on a chunk that belongs to another peer */
  owner?: PeerId
}

/**
 * Places copies of a chunk on distinct peers, closest to the chunk first.
 * Each of `count` slots tries the next candidate until one accepts; a
 * refusal (no space, failure) moves on. Returns the peers that took it.
 */
export class Placement {
  private readonly components: PlacementComponents

  constructor (components: PlacementComponents) {
    this.components = components
  }

  async place (cid: CID, bytes: Uint8Array, count: number, session: PlacementSession, options: PlaceOptions = {}): Promise<string[]> {
    const skip = new Set([...(options.exclude ?? []), ...session.full, ...session.failed])
    const candidates = this.components.peers.rank(cid, skip)
    const holders: string[] = []
    let next = 0
    const slot = async (): Promise<void> => {
      while (next < candidates.length) {
        options.signal?.throwIfAborted()
        const peer = candidates[next++]
        const id = peer.toString()
        if (session.full.has(id) || session.failed.has(id)) continue
        try {
          await this.components.client.put(peer, cid, bytes, { signal: options.signal, owner: options.owner })
          holders.push(id)
          return
        } catch (err: any) {
          options.signal?.throwIfAborted()
          if (err.name === 'NoSpaceError') {
            session.full.add(id)
          } else {
            log('storing %c on %p failed: %s', cid, peer, err.message)
            session.failed.add(id)
          }
        }
      }
    }
    await Promise.all(Array.from({ length: count }, slot))
    return holders
  }
}
