import { CID } from 'multiformats/cid'
import { Manifest } from './pb/manifest.js'
import { ProtocolError } from '../errors.js'
import type { CatalogEntry } from './catalog.js'

export const MANIFEST_VERSION = 1

/** The manifest of a catalog entry, as protobuf bytes (sealed before it leaves). */
export function encodeManifest (entry: Omit<CatalogEntry, 'id' | 'manifest'>): Uint8Array {
  return Manifest.encode({
    version: MANIFEST_VERSION,
    name: entry.name,
    size: BigInt(entry.size),
    mode: entry.mode,
    mtime: BigInt(Math.floor(entry.mtime)),
    replicas: entry.replicas,
    chunkSize: entry.chunkSize,
    created: BigInt(entry.created),
    chunks: entry.chunks.map(c => ({ cid: CID.parse(c.cid).bytes, size: c.size }))
  })
}

/** A catalog entry from manifest bytes; holders are unknown (empty). */
export function decodeManifest (id: string, bytes: Uint8Array): CatalogEntry {
  let m: Manifest
  try {
    m = Manifest.decode(bytes, { limits: { chunks: 16 * 1024 * 1024 } })
  } catch (err: any) {
    throw new ProtocolError(`backup ${id} has a malformed manifest: ${err.message}`)
  }
  if (m.version !== MANIFEST_VERSION) throw new ProtocolError(`backup ${id} has manifest version ${m.version}, this node reads ${MANIFEST_VERSION}`)
  return {
    id,
    name: m.name,
    size: Number(m.size),
    mode: m.mode,
    mtime: Number(m.mtime),
    created: Number(m.created),
    replicas: m.replicas,
    chunkSize: m.chunkSize,
    chunks: m.chunks.map(c => ({ cid: CID.decode(c.cid).toString(), size: c.size, holders: [] })),
    manifest: { holders: [] }
  }
}
