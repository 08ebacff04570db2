/**
 * What a holder knows of the chunks it keeps, beside their bytes: for whom
 * each is held (a claim, with its lease renewal time and the owner's
 * signature), which are manifests, and how much of this node's disk each
 * owner takes, against its share (quotas). The chunk files themselves are
 * the writer's (ChunkStore); this room keeps the records.
 */
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import type { Datastore } from 'interface-datastore'

/** Datastore prefix of the holder records: `/backpack/held/<cid>/<owner>` → lease renewal time. */
const HELD_PREFIX = '/backpack/held'
/** Datastore prefix of the manifests among them: `/backpack/manifests/<owner>/<cid>` → empty. */
const MANIFESTS_PREFIX = '/backpack/manifests'
/** Datastore prefix of the owners' signatures on them: `/backpack/signed/<cid>/<owner>` → signature. */
const SIGNED_PREFIX = '/backpack/signed'

export interface HeldChunk {
  cid: CID
  owner: string
  /** Last lease renewal, ms since the epoch */
  renewed: number
}

export interface ClaimsComponents {
  datastore: Datastore
}

/** One owner's use of this node's disk. */
export interface DiskUser {
  peer: string
  /** Bytes of the chunks held for it (a chunk held for two owners counts for both) */
  bytes: number
}

export class Claims {
  /** Bytes held for each owner */
  private readonly usage = new Map<string, number>()

  constructor (private readonly components: ClaimsComponents) {}

  /** Count what each owner takes, from the claims and the sizes of the copies on disk. */
  async start (sizeOf: (cid: CID) => Promise<number | undefined>): Promise<void> {
    this.usage.clear()
    for await (const { cid, owner } of this.held()) {
      this.count(owner, await sizeOf(cid) ?? 0)
    }
  }

  /** Bytes held for `owner`. */
  usedBy (owner: string): number {
    return this.usage.get(owner) ?? 0
  }

  /** The owners taking the most of this node's disk, largest first. */
  users (max = 5): DiskUser[] {
    return [...this.usage].map(([peer, bytes]) => ({ peer, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, max)
  }

  private count (owner: string, bytes: number): void {
    const now = (this.usage.get(owner) ?? 0) + bytes
    if (now > 0) this.usage.set(owner, now)
    else this.usage.delete(owner)
  }

  private heldKey (cid: CID, owner?: string): Key {
    return new Key(owner == null ? `${HELD_PREFIX}/${cid}` : `${HELD_PREFIX}/${cid}/${owner}`)
  }

  private signedKey (cid: CID, owner: string): Key {
    return new Key(`${SIGNED_PREFIX}/${cid}/${owner}`)
  }

  private manifestKey (cid: CID, owner: string): Key {
    return new Key(`${MANIFESTS_PREFIX}/${owner}/${cid}`)
  }

  /** Record `owner`'s claim on a copy of `size` bytes, with its signature when it came with one. */
  async record (cid: CID, owner: string, size: number, signature?: Uint8Array): Promise<void> {
    const key = this.heldKey(cid, owner)
    const had = await this.components.datastore.has(key)
    await this.components.datastore.put(key, encodeTime(Date.now()))
    if (signature != null && signature.byteLength > 0) await this.components.datastore.put(this.signedKey(cid, owner), signature)
    if (!had) this.count(owner, size)
  }

  /** Whether `owner` has a claim on the chunk. */
  async isHeldFor (cid: CID, owner: string): Promise<boolean> {
    return this.components.datastore.has(this.heldKey(cid, owner))
  }

  /** The owner's signature on its claim, when it sent one. */
  async signature (cid: CID, owner: string): Promise<Uint8Array | undefined> {
    try {
      return await this.components.datastore.get(this.signedKey(cid, owner))
    } catch {
      return undefined
    }
  }

  /** The claims on a chunk. */
  async owners (cid: CID): Promise<HeldChunk[]> {
    const out: HeldChunk[] = []
    for await (const { key, value } of this.components.datastore.query({ prefix: this.heldKey(cid).toString() + '/' })) {
      out.push({ cid, owner: key.baseNamespace(), renewed: decodeTime(value) })
    }
    return out
  }

  /** Every claim: one per chunk and owner. */
  async * held (): AsyncGenerator<HeldChunk> {
    for await (const { key, value } of this.components.datastore.query({ prefix: HELD_PREFIX + '/' })) {
      const parts = key.toString().split('/')
      const cid = CID.parse(parts[3])
      yield { cid, owner: parts[4], renewed: decodeTime(value) }
    }
  }

  /** Renew `owner`'s lease; false when it has no claim. */
  async renew (cid: CID, owner: string): Promise<boolean> {
    const key = this.heldKey(cid, owner)
    if (!(await this.components.datastore.has(key))) return false
    await this.components.datastore.put(key, encodeTime(Date.now()))
    return true
  }

  /** Drop `owner`'s claim on a copy of `size` bytes (and its manifest mark); whether it had one. */
  async drop (cid: CID, owner: string, size: number): Promise<boolean> {
    const key = this.heldKey(cid, owner)
    const had = await this.components.datastore.has(key)
    if (had) {
      await this.components.datastore.delete(key)
      this.count(owner, -size)
    }
    await this.components.datastore.delete(this.signedKey(cid, owner))
    await this.components.datastore.delete(this.manifestKey(cid, owner))
    return had
  }

  async markManifest (cid: CID, owner: string): Promise<void> {
    await this.components.datastore.put(this.manifestKey(cid, owner), new Uint8Array(0))
  }

  async isManifest (cid: CID, owner: string): Promise<boolean> {
    return this.components.datastore.has(this.manifestKey(cid, owner))
  }

  /** The manifests held for `owner`. */
  async manifestsOf (owner: string, max = Infinity): Promise<CID[]> {
    const out: CID[] = []
    for await (const key of this.components.datastore.queryKeys({ prefix: `${MANIFESTS_PREFIX}/${owner}/` })) {
      if (out.length >= max) break
      const cid = CID.parse(key.baseNamespace())
      if (await this.isHeldFor(cid, owner)) out.push(cid)
    }
    return out
  }
}

/** A time (ms since the epoch) as datastore value: decimal text. */
export function encodeTime (ms: number): Uint8Array {
  return new TextEncoder().encode(String(ms))
}

export function decodeTime (bytes: Uint8Array): number {
  return Number(new TextDecoder().decode(bytes))
}
