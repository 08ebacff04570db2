import { logger } from '@libp2p/logger'
import { isNoSpace } from '../errors.js'
import type { BackpackPeers } from './peers.js'
import type { ChunkClient } from '../protocol/client.js'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'

const log = logger('backpack:placement')

export interface PlacementComponents {
  peers: BackpackPeers
  client: ChunkClient
  /** This node's holder group, sent with its own chunks */
  ownGroup?: Uint8Array
  /** The holder group of another owner whose chunk is handed on */
  groupOf?: (owner: string) => Uint8Array | undefined
}

/** A peer that failed this many times in one operation is not asked again in it. */
export const MAX_PEER_FAILURES = 3

/** State shared by the chunks of one operation: peers found full or failing. */
export interface PlacementSession {
  /** Peers that answered NO_SPACE */
  full: Set<string>
  /** Peers that failed at least once (unreachable, timed out, refused) */
  failed: Set<string>
  /** Failures per peer: one slow answer under load does not rule a peer out */
  failures: Map<string, number>
}

export function newSession (): PlacementSession {
  return { full: new Set(), failed: new Set(), failures: new Map() }
}

function ruledOut (session: PlacementSession, peer: string): boolean {
  return session.full.has(peer) || (session.failures.get(peer) ?? 0) >= MAX_PEER_FAILURES
}

export interface PlaceOptions {
  signal?: AbortSignal
  /** Peers that must not get a copy (the owner, current holders) */
  exclude?: Set<string>
  /** Set when handing on a chunk that belongs to another peer */
  owner?: PeerId
  /** With `owner`: its signed claim on the chunk (src/protocol/claims.ts), without which a holder refuses it */
  claim?: Uint8Array
  /** The chunk is a backup's manifest (holders list it for its owner) */
  manifest?: boolean
  /** The candidates as `peers.rank(cid, exclude)` gave them, when the caller has them already */
  ranked?: PeerId[]
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

  /** The holder group to send with a chunk of `owner` (this node's when unset). */
  groupFor (owner?: PeerId): Uint8Array | undefined {
    return owner == null ? this.components.ownGroup : this.components.groupOf?.(owner.toString())
  }

  async place (cid: CID, bytes: Uint8Array | Uint8ArrayList, count: number, session: PlacementSession, options: PlaceOptions = {}): Promise<string[]> {
    const candidates = (options.ranked ?? this.components.peers.rank(cid, new Set(options.exclude))).filter(p => !ruledOut(session, p.toString()))
    const holders: string[] = []
    let next = 0
    const slot = async (): Promise<void> => {
      while (next < candidates.length) {
        options.signal?.throwIfAborted()
        const peer = candidates[next++]
        const id = peer.toString()
        if (ruledOut(session, id)) continue
        try {
          await this.components.client.put(peer, cid, bytes, { signal: options.signal, owner: options.owner, claim: options.claim, group: this.groupFor(options.owner), manifest: options.manifest })
          holders.push(id)
          return
        } catch (err: any) {
          options.signal?.throwIfAborted()
          if (err.name === 'NoSpaceError') {
            session.full.add(id)
          } else if (err.name !== 'ProtocolError' && isNoSpace(err)) {
            // this node's own disk is full (its datastore): no peer is to blame
            throw err
          } else {
            log('storing %c on %p failed: %s', cid, peer, err.message)
            session.failed.add(id)
            session.failures.set(id, (session.failures.get(id) ?? 0) + 1)
          }
        }
      }
    }
    await Promise.all(Array.from({ length: count }, slot))
    return holders
  }
}
