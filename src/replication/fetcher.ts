import { logger } from '@libp2p/logger'
import { UnavailableError, errorMessage } from '../errors.js'
import { delay } from '../util/concurrency.js'
import type { BackpackPeers } from './peers.js'
import type { GroupLookup } from './groups.js'
import type { ChunkClient } from '../protocol/client.js'
import type { DataSink } from '../protocol/codec.js'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:fetcher')

/** Passes over a chunk's holders and providers before it counts as unavailable. */
export const DEFAULT_FETCH_ROUNDS = 3
/** Wait before the second pass; the third waits twice as long. */
export const FETCH_RETRY_DELAY_MS = 1_000

export interface FetcherComponents {
  peerId: PeerId
  peerIdFromString: (id: string) => PeerId
  client: Pick<ChunkClient, 'get' | 'getInto'>
  peers: Pick<BackpackPeers, 'isConnected' | 'get'>
  /** Finds the peers holding this node's chunks through the DHT */
  groupLookup: Pick<GroupLookup, 'holders' | 'forget'>
}

export interface FetchOptions<T> {
  /** Peers recorded as holding the chunk, asked first */
  holders: string[]
  /** Start at this holder (wrapping), so that chunks fetched together ask different peers first @default 0 */
  spread?: number
  /** Passes over holders and providers @default DEFAULT_FETCH_ROUNDS */
  rounds?: number
  signal?: AbortSignal
  /** Fetch from one peer; throws when its copy is missing or bad @default the chunk's bytes, checked against the CID */
  from?: (peer: PeerId) => Promise<T>
}

/**
 * A failure of this node's own (writing what it fetched), not of the peer it
 * fetched from: no other peer would do better, so the fetch stops.
 */
export class LocalFailure extends Error {
  readonly error: unknown
  constructor (error: unknown) {
    super(errorMessage(error))
    this.error = error
  }
}

/**
 * Fetches one chunk with failover: from the recorded holders first
 * (connected ones first, starting at a different holder per chunk to spread
 * the load), then from the peers that announce this node's holder group in
 * the DHT. A peer whose copy is missing or bad makes way for the next; a
 * LocalFailure ends the fetch with its error. Restore, repair and recovery
 * all fetch through it.
 */
export interface FetcherInit {
  /** A holder sent bytes that do not match the chunk's CID */
  onBadCopy?: (cid: CID, holder: string) => void
}

export class Fetcher {
  constructor (private readonly components: FetcherComponents, private readonly init: FetcherInit = {}) {}

  async fetch<T = Uint8Array> (cid: CID, options: FetchOptions<T>): Promise<T> {
    const { client, peers, groupLookup } = this.components
    const { holders, spread = 0, rounds = DEFAULT_FETCH_ROUNDS, signal } = options
    const fetchFrom = options.from ?? (async (peer: PeerId) => client.get(peer, cid, { signal }) as Promise<T>)
    let tried = new Set<string>()
    const attempt = async (peer: PeerId): Promise<{ value: T } | undefined> => {
      tried.add(peer.toString())
      try {
        return { value: await fetchFrom(peer) }
      } catch (err: any) {
        if (err instanceof LocalFailure) throw err.error
        signal?.throwIfAborted()
        log('chunk %c from %p failed: %s', cid, peer, err.message)
        if (err?.name === 'BadHashError') this.init.onBadCopy?.(cid, peer.toString())
        return undefined
      }
    }
    for (let round = 0; round < rounds; round++) {
      // a peer that timed out under load may answer a moment later
      if (round > 0) await delay(FETCH_RETRY_DELAY_MS * round, signal)
      tried = new Set([this.components.peerId.toString()])
      const rotated = rotate(holders, spread)
      const ordered = [...rotated.filter(h => peers.isConnected(h)), ...rotated.filter(h => !peers.isConnected(h))]
      for (const holder of ordered) {
        if (tried.has(holder)) continue
        const result = await attempt(peers.get(holder) ?? this.components.peerIdFromString(holder))
        if (result !== undefined) return result.value
      }
      // the peers that announce this node's holder group hold some of its chunks
      let found: PeerId[] = []
      try {
        found = await groupLookup.holders(signal)
      } catch (err: any) {
        signal?.throwIfAborted()
        log('looking up the holder group failed: %s', err.message)
      }
      for (const holder of rotate(found, spread)) {
        if (tried.has(holder.toString())) continue
        const result = await attempt(holder)
        if (result !== undefined) return result.value
      }
      // none had it: what the DHT said may be out of date by the next pass
      groupLookup.forget()
    }
    throw new UnavailableError(`chunk ${cid} is unavailable: none of ${tried.size - 1} peers tried has a good copy`)
  }
}

/** Where a streamed chunk goes: checked and written piece by piece. */
export interface ChunkSink extends DataSink {
  /** Every write of this copy has ended, whatever became of it (before another copy is written) */
  settled: () => Promise<void>
  /** After the last piece: throws when the copy was bad or could not be written */
  done: () => Promise<void>
}

/**
 * Fetch a chunk into a sink made anew for each peer tried (`sink(peer)`):
 * its bytes go to the sink piece by piece as they arrive, never held
 * whole; the sink checks them (throwing makes way for the next peer).
 */
export async function streamChunk (fetcher: Fetcher, client: Pick<ChunkClient, 'getInto'>, cid: CID, options: Omit<FetchOptions<void>, 'from'> & { sink: (peer: PeerId) => ChunkSink }): Promise<void> {
  await fetcher.fetch<void>(cid, {
    ...options,
    from: async peer => {
      const sink = options.sink(peer)
      try {
        await client.getInto(peer, cid, sink, { signal: options.signal })
      } finally {
        await sink.settled()
      }
      await sink.done()
    }
  })
}

/** `list` starting at index `spread` (wrapping): each chunk asks a different peer first. */
function rotate<T> (list: T[], spread: number): T[] {
  return list.map((_, i) => list[(i + spread) % list.length])
}
