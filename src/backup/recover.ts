import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { ProtocolError } from '../errors.js'
import { MANIFEST_VERSION } from './archiver.js'
import { idText } from '../catalog/catalog.js'
import { Manifest, Node } from '../catalog/pb/snapshot.js'
import type { Catalog, PackRecord, SnapshotRecord } from '../catalog/catalog.js'
import type { Trees } from './trees.js'
import type { DataCipher } from '../chunking/cipher.js'
import type { Fetcher } from '../replication/fetcher.js'
import type { GroupLookup } from '../replication/groups.js'
import type { ChunkClient } from '../protocol/client.js'
import type { PeerId } from '@libp2p/interface'

const log = logger('backpack:recover')

/** Most tree packs one index chunk may list when read (a hostile or corrupt one is refused) */
const MAX_MANIFEST_ENTRIES = 1_000_000

export interface RecoveryComponents {
  peerId: PeerId
  client: Pick<ChunkClient, 'manifests' | 'has'>
  catalog: Catalog
  groupLookup: Pick<GroupLookup, 'holders' | 'forget'>
  cipher: DataCipher
  fetcher: Fetcher
  trees: Trees
}

export interface RecoveryResult {
  /** Peers that announce this node's holder group */
  holders: number
  /** Of those, the ones that answered */
  answered: number
  /** Snapshots added to the catalog */
  added: number
}

/** Open a manifest chunk of this owner's; throws when it is not one. */
export function openManifest (cipher: DataCipher, id: string, sealed: Uint8Array): Manifest {
  let m: Manifest
  try {
    m = Manifest.decode(cipher.open(sealed), { limits: { index$: { packs: MAX_MANIFEST_ENTRIES } } })
  } catch (err: any) {
    if (err.name === 'DecryptError') throw err
    throw new ProtocolError(`chunk ${id} holds a malformed manifest: ${err.message}`)
  }
  if (m.version !== MANIFEST_VERSION) throw new ProtocolError(`chunk ${id} has manifest version ${m.version}, this node reads ${MANIFEST_VERSION}`)
  return m
}

/**
 * Rebuilds the catalog of a node recovered from its phrase. The peers that
 * announce its holder group list the manifests they hold for it: tree
 * indexes (where its directory listings are) and snapshots. Each snapshot
 * not in the catalog is walked (its listings fetched and cached) to learn
 * the chunks it needs and where its file contents are, and every holder is
 * asked which of those chunks it has, so `ls` shows real replica counts and
 * a later put reuses what is stored.
 */
export async function recoverCatalog (components: RecoveryComponents, signal?: AbortSignal): Promise<RecoveryResult> {
  const { client, catalog, groupLookup, cipher, fetcher } = components
  groupLookup.forget()
  const holders = (await groupLookup.holders(signal)).filter(p => !p.equals(components.peerId))
  const manifests = new Map<string, PeerId[]>()
  const answered: PeerId[] = []
  for (const holder of holders) {
    try {
      for (const cid of await client.manifests(holder, { signal })) {
        manifests.set(cid.toString(), [...(manifests.get(cid.toString()) ?? []), holder])
      }
      answered.push(holder)
    } catch (err: any) {
      signal?.throwIfAborted()
      log('%p did not list its manifests: %s', holder, err.message)
    }
  }
  const snapshots: Array<{ id: string, snapshot: NonNullable<Manifest['snapshot']>, holders: string[] }> = []
  for (const [id, manifestHolders] of manifests) {
    if (await catalog.pack(id) != null) continue
    let manifest: Manifest
    try {
      const sealed = await fetcher.fetch(CID.parse(id), { holders: manifestHolders.map(String), rounds: 1, signal })
      manifest = openManifest(cipher, id, sealed)
    } catch (err: any) {
      signal?.throwIfAborted()
      // not one of ours (it does not open), or unavailable for now
      log('manifest %s not recovered: %s', id, err.message)
      continue
    }
    if (manifest.index != null) await recordIndex(catalog, id, manifest.index, manifestHolders.map(String))
    if (manifest.snapshot != null) snapshots.push({ id, snapshot: manifest.snapshot, holders: manifestHolders.map(String) })
  }
  let added = 0
  for (const { id, snapshot, holders: snapHolders } of snapshots) {
    try {
      await recordSnapshot(components, id, snapshot, snapHolders, answered, signal)
      added++
    } catch (err: any) {
      signal?.throwIfAborted()
      // found again next time: only a recorded snapshot chunk counts as known
      log('snapshot %s not recovered yet: %s', id, err.message)
    }
  }
  return { holders: holders.length, answered: answered.length, added }
}

/** A tree index: its tree packs and their listings, so listings can be found. */
async function recordIndex (catalog: Catalog, id: string, index: NonNullable<Manifest['index']>, holders: string[]): Promise<void> {
  const batch = catalog.batch()
  const covers: string[] = []
  for (const pack of index.packs) {
    const cid = CID.decode(pack.cid).toString()
    covers.push(cid)
    const size = pack.entries.reduce((max, e) => Math.max(max, e.offset + e.length), 0)
    const existing = await catalog.pack(cid)
    catalog.putPack(batch, { cid, kind: 'tree', size, replicas: existing?.replicas ?? 1, holders: existing?.holders ?? [], index: id })
    catalog.putPackBlobs(batch, cid, pack.entries.map(e => e.id))
    for (const e of pack.entries) catalog.putBlob(batch, 'tree', { id: e.id, pack: pack.cid, offset: e.offset, length: e.length, plainLength: e.plainLength, compressed: e.compressed })
  }
  catalog.putPack(batch, { cid: id, kind: 'index', size: 0, replicas: 1, holders, covers })
  await batch.commit()
}

/**
 * Walk a recovered snapshot's listings: the chunks it needs, the places of
 * its file contents (for dedup), and who holds each chunk.
 */
async function recordSnapshot (components: RecoveryComponents, id: string, snap: NonNullable<Manifest['snapshot']>, snapHolders: string[], answered: PeerId[], signal?: AbortSignal): Promise<void> {
  const { catalog, trees, client } = components
  const needs = new Set<string>([id])
  const dataPacks = new Map<string, { size: number, blobs: Uint8Array[] }>()
  const batch = catalog.batch()
  const needTrees = async (ids: Uint8Array[]): Promise<Node[]> => {
    for (const treeId of ids) {
      const ref = await catalog.blob('tree', treeId)
      if (ref == null) continue
      const pack = CID.decode(ref.pack).toString()
      needs.add(pack)
      const index = (await catalog.pack(pack))?.index
      if (index != null) needs.add(index)
    }
    return trees.listing(ids, signal)
  }
  const walk = async (nodes: Node[]): Promise<void> => {
    for (const node of nodes) {
      if (node.type === Node.Type.DIR) await walk(await needTrees(node.subtree))
      for (const ref of node.content) {
        const pack = CID.decode(ref.pack).toString()
        needs.add(pack)
        const entry = dataPacks.get(pack) ?? { size: 0, blobs: [] }
        entry.size = Math.max(entry.size, ref.offset + ref.length)
        entry.blobs.push(ref.id)
        dataPacks.set(pack, entry)
        catalog.putBlob(batch, 'data', ref)
      }
    }
  }
  await walk(await needTrees(snap.tree))
  for (const [cid, { size, blobs }] of dataPacks) {
    const existing = await catalog.pack(cid)
    if (existing == null) catalog.putPack(batch, { cid, kind: 'data', size, replicas: snap.replicas, holders: [] })
    catalog.putPackBlobs(batch, cid, blobs)
  }
  catalog.putPack(batch, { cid: id, kind: 'snapshot', size: 0, replicas: snap.replicas, holders: snapHolders })
  const record: SnapshotRecord = {
    id,
    created: Number(snap.created),
    sources: snap.sources,
    tree: snap.tree.map(idText),
    files: Number(snap.files),
    dirs: Number(snap.dirs),
    size: Number(snap.size),
    replicas: snap.replicas,
    hostname: snap.hostname,
    ...(snap.parent !== '' ? { parent: snap.parent } : {}),
    added: 0
  }
  catalog.putSnapshot(batch, record, needs)
  await batch.commit()
  // who holds what: every chunk it needs, asked of every holder that answered
  const cids = [...needs]
  const found = new Map<string, string[]>()
  for (const holder of answered) {
    try {
      const have = await client.has(holder, cids.map(c => CID.parse(c)), { signal })
      have.forEach((yes, i) => { if (yes) found.set(cids[i], [...(found.get(cids[i]) ?? []), holder.toString()]) })
    } catch (err: any) {
      signal?.throwIfAborted()
      log('%p did not say which chunks of %s it has: %s', holder, id, err.message)
    }
  }
  for (const cid of cids) {
    await catalog.updatePack(cid, (p: PackRecord) => ({
      ...p,
      replicas: Math.max(p.replicas, snap.replicas),
      holders: [...new Set([...p.holders, ...(found.get(cid) ?? [])])]
    }))
  }
  log('recovered snapshot %s (%d chunks)', id, cids.length)
}

