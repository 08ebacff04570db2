import { compressBlob, decompressBlob } from '../chunking/compress.js'
import { SEAL_OVERHEAD_BYTES } from '../chunking/cipher.js'
import { ProtocolError } from '../errors.js'
import type { DataCipher } from '../chunking/cipher.js'
import type { CompressionMode } from '../chunking/compress.js'
import type { BlobRef } from '../catalog/pb/snapshot.js'

/** A blob ready for a pack: its id, its sealed parts and what they hold. */
export interface SealedBlob {
  id: Uint8Array
  parts: Uint8Array[]
  /** Sealed bytes */
  length: number
  plainLength: number
  compressed: boolean
}

/**
 * Compress (where that makes it smaller) and seal one blob whose id is
 * known. Each blob of a pack is sealed on its own, so any one of them can
 * be opened without the others.
 */
export function sealBlob (cipher: DataCipher, id: Uint8Array, plain: Uint8Array, compression: CompressionMode): SealedBlob {
  const { bytes, compressed } = compressBlob(plain, compression)
  const parts = cipher.sealRandom(bytes)
  return { id, parts, length: bytes.byteLength + SEAL_OVERHEAD_BYTES, plainLength: plain.byteLength, compressed }
}

/** The sealed bytes of the blob `ref` points at in `pack` (a view of them). */
export function sealedBlob (pack: Uint8Array, ref: Pick<BlobRef, 'offset' | 'length'>): Uint8Array {
  if (ref.offset + ref.length > pack.byteLength) throw new ProtocolError(`a blob at ${ref.offset}+${ref.length} lies beyond its pack of ${pack.byteLength} bytes`)
  return pack.subarray(ref.offset, ref.offset + ref.length)
}

/** The plaintext of the blob `ref` points at in `pack` (the pack's bytes, checked against its CID). */
export function openBlob (cipher: DataCipher, pack: Uint8Array, ref: Pick<BlobRef, 'offset' | 'length' | 'plainLength' | 'compressed'>): Uint8Array {
  const opened = cipher.open(sealedBlob(pack, ref))
  const plain = ref.compressed ? decompressBlob(opened, ref.plainLength) : opened
  if (plain.byteLength !== ref.plainLength) throw new ProtocolError(`a blob opened to ${plain.byteLength} bytes, ${ref.plainLength} expected`)
  return plain
}
