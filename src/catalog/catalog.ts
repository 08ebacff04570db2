import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { BlobRef } from './pb/snapshot.js'
import type { Batch, Datastore } from 'interface-datastore'

// The owner's own records, in the repo's datastore: where each blob is (the
// blob index), where each chunk of the network is held (the pack table),
// and its snapshots. Nothing here grows in memory with the size of a tree:
// each record is read and written by key.

const BLOBS_PREFIX = '/backpack/blobs'
const PACKS_PREFIX = '/backpack/packs'
const PACK_BLOBS_PREFIX = '/backpack/pack-blobs'
const TREE_CACHE_PREFIX = '/backpack/tree-cache'
const SNAPSHOTS_PREFIX = '/backpack/snapshots'
const NEEDS_PREFIX = '/backpack/needs'

/** Bytes of a chunk CID (v1, raw, sha2-256): the only kind backpack makes. */
export const CID_BYTES = 36

export type BlobKind = 'data' | 'tree'

/** What a chunk of the network holds for its owner. */
export type PackKind = 'data' | 'tree' | 'index' | 'snapshot'

export interface PackRecord {
  cid: string
  kind: PackKind
  /** Sealed bytes */
  size: number
  /** Copies wanted: the most any snapshot that uses it asks for */
  replicas: number
  /** Peers that hold a copy, as far as the owner knows */
  holders: string[]
  /** A tree pack: the index chunk that lists its trees */
  index?: string
  /** An index chunk: the tree packs it lists */
  covers?: string[]
  /**
   * The root over the sealed bytes' pieces (base64, src/chunking/merkle.ts),
   * made when this owner stored the chunk: what audits are checked against.
   * Missing for a chunk known only through recovery.
   */
  root?: string
  /** holder → when its copy last passed an audit (ms since the epoch) */
  proven?: Record<string, number>
}

/**
 * The oldest last proof among these holders' copies (ms); undefined when
 * one of them was never proven, or the pack has no root to prove against.
 */
export function oldestProof (pack: Pick<PackRecord, 'root' | 'proven'>, holders: string[]): number | undefined {
  if (pack.root == null) return undefined
  let oldest = Infinity
  for (const h of holders) {
    const at = pack.proven?.[h]
    if (at == null) return undefined
    oldest = Math.min(oldest, at)
  }
  return oldest
}

export interface SnapshotRecord {
  id: string
  /** ms since the epoch */
  created: number
  sources: string[]
  /** The root listing's tree blob ids (base64url) */
  tree: string[]
  files: number
  dirs: number
  size: number
  replicas: number
  hostname: string
  parent?: string
  /** Bytes this snapshot's put added to the network (one copy) */
  added: number
}

/** A blob id as a datastore key part. */
export function idText (id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64url')
}

export function idBytes (text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64url'))
}

/** The key of a set of sources: the same paths in any order are the same set. */
export function sourcesKey (sources: string[]): string {
  return JSON.stringify([...sources].sort())
}

export function encodeCids (cids: Iterable<string>): Uint8Array {
  const list = [...cids].map(c => CID.parse(c).bytes)
  const out = new Uint8Array(list.length * CID_BYTES)
  list.forEach((bytes, i) => { out.set(bytes, i * CID_BYTES) })
  return out
}

export function decodeCids (bytes: Uint8Array): string[] {
  const out: string[] = []
  for (let at = 0; at + CID_BYTES <= bytes.byteLength; at += CID_BYTES) out.push(CID.decode(bytes.subarray(at, at + CID_BYTES)).toString())
  return out
}

/**
 * A value, or undefined when the key is missing. A LevelDB datastore is
 * asked through its database, which answers undefined: the datastore's
 * NotFoundError costs a stack trace per miss, and a first put misses for
 * nearly every blob (measured: 176 ms of a put of 20,000 small files).
 */
async function getOr (datastore: Datastore, key: Key): Promise<Uint8Array | undefined> {
  const db = (datastore as { db?: { get?: (key: string) => Promise<Uint8Array | undefined>, status?: string } }).db
  if (typeof db?.get === 'function' && db.status === 'open') return (await db.get(key.toString())) ?? undefined
  try {
    return await datastore.get(key)
  } catch {
    return undefined
  }
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const unjson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes))

/**
 * The owner's index: blob id → where it is, chunk → its holders, and its
 * snapshots with the chunks each needs. Writes that belong together go in
 * one batch (`batch()`), which LevelDB applies atomically.
 */
export class Catalog {
  private readonly datastore: Datastore
  private queue: Promise<unknown> = Promise.resolve()

  constructor (components: { datastore: Datastore }) {
    this.datastore = components.datastore
  }

  batch (): Batch {
    return this.datastore.batch()
  }

  // --- blobs

  private blobKey (kind: BlobKind, id: string): Key {
    return new Key(`${BLOBS_PREFIX}/${kind}/${id}`)
  }

  /** Where a blob is; undefined when this owner has not stored it. */
  async blob (kind: BlobKind, id: Uint8Array): Promise<BlobRef | undefined> {
    const bytes = await getOr(this.datastore, this.blobKey(kind, idText(id)))
    return bytes == null ? undefined : { ...BlobRef.decode(bytes), id }
  }

  putBlob (batch: Batch, kind: BlobKind, ref: BlobRef): void {
    batch.put(this.blobKey(kind, idText(ref.id)), BlobRef.encode({ ...ref, id: new Uint8Array(0) }))
  }

  deleteBlob (batch: Batch, kind: BlobKind, id: string): void {
    batch.delete(this.blobKey(kind, id))
  }

  // --- trees: a cache of this owner's directory listings, so that a put
  // compares with its parent and `ls` lists without fetching them

  private treeKey (id: string): Key {
    return new Key(`${TREE_CACHE_PREFIX}/${id}`)
  }

  async cachedTree (id: Uint8Array): Promise<Uint8Array | undefined> {
    return getOr(this.datastore, this.treeKey(idText(id)))
  }

  cacheTree (batch: Batch, id: Uint8Array, plain: Uint8Array): void {
    batch.put(this.treeKey(idText(id)), plain)
  }

  // --- packs: the chunks of the network, with their holders

  private packKey (cid: string): Key {
    return new Key(`${PACKS_PREFIX}/${cid}`)
  }

  async pack (cid: string): Promise<PackRecord | undefined> {
    const bytes = await getOr(this.datastore, this.packKey(cid))
    return bytes == null ? undefined : unjson<PackRecord>(bytes)
  }

  putPack (batch: Batch, record: PackRecord): void {
    batch.put(this.packKey(record.cid), json(record))
  }

  async putPackNow (record: PackRecord): Promise<void> {
    await this.datastore.put(this.packKey(record.cid), json(record))
  }

  /** The blobs a pack holds (ids), as recorded when it was stored. */
  async packBlobs (cid: string): Promise<string[]> {
    const bytes = await getOr(this.datastore, new Key(`${PACK_BLOBS_PREFIX}/${cid}`))
    if (bytes == null) return []
    const out: string[] = []
    for (let at = 0; at + 32 <= bytes.byteLength; at += 32) out.push(idText(bytes.subarray(at, at + 32)))
    return out
  }

  putPackBlobs (batch: Batch, cid: string, ids: Uint8Array[]): void {
    const out = new Uint8Array(ids.length * 32)
    ids.forEach((id, i) => { out.set(id, i * 32) })
    batch.put(new Key(`${PACK_BLOBS_PREFIX}/${cid}`), out)
  }

  /**
   * Forget a chunk: its record, and for a data or tree pack the index
   * entries of the blobs in it (those that still point at it) and the
   * cached trees.
   */
  async deletePack (batch: Batch, record: PackRecord): Promise<void> {
    batch.delete(this.packKey(record.cid))
    if (record.kind !== 'data' && record.kind !== 'tree') return
    const kind: BlobKind = record.kind
    for (const id of await this.packBlobs(record.cid)) {
      const ref = await this.blob(kind, idBytes(id))
      if (ref != null && CID.decode(ref.pack).toString() === record.cid) this.deleteBlob(batch, kind, id)
      if (kind === 'tree') batch.delete(this.treeKey(id))
    }
    batch.delete(new Key(`${PACK_BLOBS_PREFIX}/${record.cid}`))
  }

  /**
   * Change a pack record: `fn` gets it and returns the new one. Updates run
   * one at a time, so repair and "moved" notices do not lose each other's.
   */
  async updatePack (cid: string, fn: (record: PackRecord) => PackRecord | undefined): Promise<void> {
    const run = this.queue.then(async () => {
      const record = await this.pack(cid)
      if (record == null) return
      const next = fn(record)
      if (next != null) await this.putPackNow(next)
    })
    this.queue = run.catch(() => {})
    await run
  }

  /** Every pack record. */
  async * packs (): AsyncGenerator<PackRecord> {
    for await (const { value } of this.datastore.query({ prefix: PACKS_PREFIX + '/' })) yield unjson<PackRecord>(value)
  }

  /** cid → the peers recorded as holding it. */
  async holdersOf (): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>()
    for await (const pack of this.packs()) out.set(pack.cid, new Set(pack.holders))
    return out
  }

  /** A holder handed chunks on: `from` is replaced by `to` wherever it held them. */
  async moveHolder (from: string, to: string, cids: Set<string>): Promise<void> {
    for (const cid of cids) {
      await this.updatePack(cid, p => p.holders.includes(from)
        ? { ...p, holders: p.holders.includes(to) ? p.holders.filter(h => h !== from) : p.holders.map(h => h === from ? to : h) }
        : undefined)
    }
  }

  // --- snapshots

  async snapshot (id: string): Promise<SnapshotRecord | undefined> {
    const bytes = await getOr(this.datastore, new Key(`${SNAPSHOTS_PREFIX}/${id}`))
    return bytes == null ? undefined : unjson<SnapshotRecord>(bytes)
  }

  putSnapshot (batch: Batch, record: SnapshotRecord, needs: Iterable<string>): void {
    batch.put(new Key(`${SNAPSHOTS_PREFIX}/${record.id}`), json(record))
    batch.put(new Key(`${NEEDS_PREFIX}/${record.id}`), encodeCids(needs))
  }

  deleteSnapshot (batch: Batch, id: string): void {
    batch.delete(new Key(`${SNAPSHOTS_PREFIX}/${id}`))
    batch.delete(new Key(`${NEEDS_PREFIX}/${id}`))
  }

  /** The chunks a snapshot needs: its own, its packs, and the index chunks of its tree packs. */
  async needs (id: string): Promise<string[]> {
    const bytes = await getOr(this.datastore, new Key(`${NEEDS_PREFIX}/${id}`))
    return bytes == null ? [] : decodeCids(bytes)
  }

  /** Every snapshot, newest first. */
  async snapshots (): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = []
    for await (const { value } of this.datastore.query({ prefix: SNAPSHOTS_PREFIX + '/' })) out.push(unjson<SnapshotRecord>(value))
    return out.sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1))
  }

  /** Every chunk some snapshot needs, except those of `except`. */
  async needed (except: Set<string> = new Set()): Promise<Set<string>> {
    const out = new Set<string>()
    for (const snap of await this.snapshots()) {
      if (except.has(snap.id)) continue
      for (const cid of await this.needs(snap.id)) out.add(cid)
    }
    return out
  }
}
