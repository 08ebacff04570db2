import { createHmac } from 'node:crypto'
import { logger } from '@libp2p/logger'
import { Key } from 'interface-datastore'
import { raceSignal } from 'race-signal'
import { equals } from 'uint8arrays/equals'
import { cidOf } from '../chunking/index.js'
import type { Announcer } from './announcer.js'
import type { HeldChunk } from '../store/index.js'
import type { Datastore } from 'interface-datastore'
import type { ContentRouting, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:groups')

/** Datastore prefix of the groups this node announces: `/backpack/groups/<owner>` → group. */
const GROUPS_PREFIX = '/backpack/groups'
/** After chunks were dropped, wait this long before looking for owners with none left. */
export const SWEEP_DELAY_MS = 5_000

/**
 * An owner's holder group: an opaque key derived from its data secret
 * (so from its recovery phrase) that every holder of its chunks announces
 * as a DHT provider record. One record per owner and holder, instead of one
 * per chunk: a provide costs a DHT lookup and messages to the closest
 * peers, tens of milliseconds of CPU across the network, and a gigabyte of
 * 1 MiB chunks made a thousand of them (and a thousand re-provides a day).
 * Only the owner (or whoever has its phrase) can compute the key, so the
 * DHT does not link a holder to the owner's peer id.
 */
export function holderGroup (dataSecret: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', dataSecret).update('backpack/holder-group/v1').digest())
}

/** The DHT key of a group. */
export function groupCid (group: Uint8Array): CID {
  return cidOf(group)
}

export interface HolderGroupsComponents {
  datastore: Datastore
  announcer: Pick<Announcer, 'announce' | 'withdraw'>
  /** Every holder record of the chunk store */
  held: () => AsyncIterable<HeldChunk>
}

/**
 * The holder's side: remembers the group of each owner whose chunks it
 * holds, announces it, and withdraws it once it holds none of theirs.
 */
export class HolderGroups {
  private readonly groups = new Map<string, Uint8Array>()
  private sweepTimer?: NodeJS.Timeout
  private sweeping?: Promise<void>

  constructor (private readonly components: HolderGroupsComponents) {}

  /** Load the groups of earlier runs (their records are re-provided by the DHT). */
  async start (): Promise<void> {
    for await (const { key, value } of this.components.datastore.query({ prefix: GROUPS_PREFIX + '/' })) {
      this.groups.set(key.baseNamespace(), value)
    }
  }

  stop (): void {
    clearTimeout(this.sweepTimer)
    this.sweepTimer = undefined
  }

  groupOf (owner: string): Uint8Array | undefined {
    return this.groups.get(owner)
  }

  /**
   * A chunk of `owner` was stored here, sent by `sender` with `group`. Only
   * the owner may change its group; a holder handing a chunk on may only
   * name one not known yet (a peer cannot hide an owner's chunks from it).
   */
  async stored (owner: string, group: Uint8Array, sender: string = owner): Promise<void> {
    const known = this.groups.get(owner)
    if (known != null && (equals(known, group) || sender !== owner)) return
    this.groups.set(owner, group)
    await this.components.datastore.put(new Key(`${GROUPS_PREFIX}/${owner}`), group)
    if (known != null && !stillUsed(this.groups, known)) this.components.announcer.withdraw(groupCid(known))
    this.components.announcer.announce(groupCid(group))
    log('announcing the holder group of %s', owner)
  }

  /** Chunks were dropped: soon, withdraw the groups of owners with none left. */
  scheduleSweep (delayMs = SWEEP_DELAY_MS): void {
    if (this.sweepTimer != null) return
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined
      this.sweep().catch(err => log.error('sweeping holder groups failed %e', err))
    }, delayMs)
    this.sweepTimer.unref()
  }

  /** Withdraw the groups of owners this node holds no chunk of. */
  async sweep (): Promise<void> {
    if (this.sweeping != null) return this.sweeping
    this.sweeping = (async () => {
      const owners = new Set<string>()
      for await (const { owner } of this.components.held()) owners.add(owner)
      for (const [owner, group] of [...this.groups]) {
        if (owners.has(owner)) continue
        this.groups.delete(owner)
        await this.components.datastore.delete(new Key(`${GROUPS_PREFIX}/${owner}`))
        if (!stillUsed(this.groups, group)) this.components.announcer.withdraw(groupCid(group))
        log('withdrew the holder group of %s: none of its chunks left', owner)
      }
    })().finally(() => { this.sweeping = undefined })
    return this.sweeping
  }
}

function stillUsed (groups: Map<string, Uint8Array>, group: Uint8Array): boolean {
  for (const g of groups.values()) if (equals(g, group)) return true
  return false
}

/** How long the holders found by one lookup are used before looking again. */
export const LOOKUP_CACHE_MS = 30_000

export interface GroupLookupComponents {
  contentRouting: Pick<ContentRouting, 'findProviders'>
}

/**
 * The owner's side: the peers that announce this node's holder group, that
 * is every peer holding some of its chunks. One DHT lookup serves every
 * chunk for a while, so a restore whose placement records are stale (or
 * gone, after `init --recover`) makes one lookup, not one per chunk.
 */
export class GroupLookup {
  private cached?: { at: number, peers: PeerId[] }
  private pending?: Promise<PeerId[]>

  constructor (private readonly components: GroupLookupComponents, private readonly group: Uint8Array, private readonly init: { timeoutMs: number, cacheMs?: number }) {}

  async holders (signal?: AbortSignal): Promise<PeerId[]> {
    if (this.cached != null && Date.now() - this.cached.at < (this.init.cacheMs ?? LOOKUP_CACHE_MS)) return this.cached.peers
    this.pending ??= this.lookup().finally(() => { this.pending = undefined })
    return raceSignal(this.pending, signal)
  }

  /** Forget what the last lookup found (a peer named there failed). */
  forget (): void {
    this.cached = undefined
  }

  private async lookup (): Promise<PeerId[]> {
    const peers: PeerId[] = []
    try {
      for await (const provider of this.components.contentRouting.findProviders(groupCid(this.group), { signal: AbortSignal.timeout(this.init.timeoutMs) })) {
        if (!peers.some(p => p.equals(provider.id))) peers.push(provider.id)
      }
    } catch (err: any) {
      log('looking up the holder group ended: %s', err.message)
    }
    log('the DHT names %d holders', peers.length)
    this.cached = { at: Date.now(), peers }
    return peers
  }
}
