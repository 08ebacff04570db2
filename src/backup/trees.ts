import { CID } from 'multiformats/cid'
import { NotFoundError, ProtocolError } from '../errors.js'
import { openBlob } from './blobs.js'
import { idBytes, idText } from '../catalog/catalog.js'
import { Node, Tree } from '../catalog/pb/snapshot.js'
import type { Catalog } from '../catalog/catalog.js'
import type { DataCipher } from '../chunking/cipher.js'
import { equals } from 'uint8arrays/equals'

/** A directory listing is split into tree blobs of about this size, so no tree blob outgrows a pack. */
export const TREE_PART_BYTES = 512 * 1024
/** Most nodes one tree blob may hold when read (a hostile or corrupt one is refused) */
const MAX_NODES_PER_TREE = 1_000_000

export interface TreesComponents {
  catalog: Catalog
  cipher: DataCipher
  /** A pack's bytes from the network, checked against its CID */
  fetchPack: (cid: CID, options: { holders: string[], signal?: AbortSignal }) => Promise<Uint8Array>
}

/** Encode nodes (sorted by name) as tree blobs of at most about TREE_PART_BYTES each. */
export function encodeTree (nodes: Node[]): Uint8Array[] {
  const whole = Tree.encode({ nodes })
  if (whole.byteLength <= TREE_PART_BYTES || nodes.length < 2) return [whole]
  const parts: Uint8Array[] = []
  let start = 0
  let bytes = 0
  nodes.forEach((node, i) => {
    const size = Node.encode(node).byteLength + 4
    if (bytes + size > TREE_PART_BYTES && i > start) {
      parts.push(Tree.encode({ nodes: nodes.slice(start, i) }))
      start = i
      bytes = 0
    }
    bytes += size
  })
  parts.push(Tree.encode({ nodes: nodes.slice(start) }))
  return parts
}

export function decodeTree (bytes: Uint8Array): Node[] {
  try {
    return Tree.decode(bytes, { limits: { nodes: MAX_NODES_PER_TREE } }).nodes
  } catch (err: any) {
    throw new ProtocolError(`a malformed directory listing: ${err.message}`)
  }
}

/**
 * Reads this owner's directory listings: from the datastore's cache of
 * them, else from their tree pack in the network (found through the tree
 * index), whose listings are all cached on the way.
 */
export class Trees {
  constructor (private readonly components: TreesComponents) {}

  /** The nodes of a directory listing made of these tree blobs. */
  async listing (ids: Uint8Array[], signal?: AbortSignal): Promise<Node[]> {
    if (ids.length === 1) return this.part(ids[0], signal)
    const out: Node[] = []
    for (const id of ids) out.push(...await this.part(id, signal))
    return out
  }

  async part (id: Uint8Array, signal?: AbortSignal): Promise<Node[]> {
    const { catalog } = this.components
    const cached = await catalog.cachedTree(id)
    if (cached != null) return decodeTree(cached)
    const ref = await catalog.blob('tree', id)
    if (ref == null) throw new NotFoundError(`directory listing ${idText(id)} is in no known tree pack`)
    const pack = CID.decode(ref.pack)
    const record = await catalog.pack(pack.toString())
    const bytes = await this.components.fetchPack(pack, { holders: record?.holders ?? [], signal })
    // every listing of the pack is cached: the next ones need no fetch
    const batch = catalog.batch()
    let wanted: Uint8Array | undefined
    for (const other of await catalog.packBlobs(pack.toString())) {
      const otherRef = other === idText(id) ? ref : await catalog.blob('tree', idBytes(other))
      if (otherRef == null || !equals(otherRef.pack, ref.pack)) continue
      const plain = this.open(bytes, otherRef.id, otherRef)
      catalog.cacheTree(batch, otherRef.id, plain)
      if (other === idText(id)) wanted = plain
    }
    wanted ??= this.open(bytes, id, ref)
    await batch.commit()
    return decodeTree(wanted)
  }

  private open (pack: Uint8Array, id: Uint8Array, ref: Parameters<typeof openBlob>[2]): Uint8Array {
    const plain = openBlob(this.components.cipher, pack, ref)
    if (!equals(this.components.cipher.blobId(plain), id)) throw new ProtocolError(`directory listing ${idText(id)} does not match its id`)
    return plain
  }
}

/**
 * Why a node's name cannot be restored as one path component, or undefined:
 * a snapshot from anywhere must never make a restore write outside its target.
 */
export function badNodeName (name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'an empty, . or .. name'
  if (name.includes('/') || name.includes('\0')) return 'a name with / or NUL'
  return undefined
}
