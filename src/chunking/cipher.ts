import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { DecipherGCM } from 'node:crypto'

const NONCE_BYTES = 12
const TAG_BYTES = 16
/** What sealing adds to a piece: nonce and tag. */
export const SEAL_OVERHEAD_BYTES = NONCE_BYTES + TAG_BYTES
/**
 * Plaintext is encrypted this much at a time: a chunk's ciphertext is then
 * made of buffers of the size the network layers allocate (noise's 64 KiB
 * messages), not one megabyte. Measured: megabyte buffers beside those
 * small ones fragment the allocator's heap, and a daemon that restored a
 * file grew 20-40 MiB larger in its next put.
 */
const SEAL_SLICE_BYTES = 64 * 1024

const WRONG_KEY = 'sealed data does not open with this node\'s key'

/** Sealed bytes that do not open with this node's key. */
export class DecryptError extends Error {
  static override name = 'DecryptError'
  override name = 'DecryptError'
}

/** Opens sealed bytes that arrive in pieces (see `DataCipher.opener`). */
export interface PieceOpener {
  /** The plaintext in this next piece of sealed bytes; may be empty. */
  update: (piece: Uint8Array) => Uint8Array
  /** After the last piece: throws DecryptError unless all of it opened. */
  final: () => void
}

/**
 * Encrypts blobs and manifests before they leave the node: AES-256-GCM
 * under a key derived from the recovery phrase, with a random nonce, so
 * holders learn nothing but sizes; names blobs by a keyed hash of their
 * plaintext (`blobId`), so the same content is stored once. Output is
 * nonce ‖ ciphertext ‖ tag.
 */
export class DataCipher {
  private readonly key: Buffer
  private readonly idKey: Buffer

  constructor (dataSecret: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', dataSecret, new Uint8Array(0), 'backpack/seal-key/v1', 32))
    this.idKey = Buffer.from(hkdfSync('sha256', dataSecret, new Uint8Array(0), 'backpack/blob-id/v1', 32))
  }

  /**
   * A blob's id: HMAC-SHA256 of its plaintext under a key of this node's,
   * so the same content has the same id (and is stored once) while ids
   * say nothing to whoever does not hold the key.
   */
  blobId (plain: Uint8Array): Uint8Array {
    return createHmac('sha256', this.idKey).update(plain).digest()
  }

  /**
   * Seal a blob with a random nonce, as its parts (nonce, ciphertext
   * slices, tag). Random, not derived from the content: a blob is found by
   * its id in the owner's index, not by its sealed bytes, and the bytes
   * sealed may differ for the same id (compressed or not).
   */
  sealRandom (plain: Uint8Array): Uint8Array[] {
    return this.sealWith(randomBytes(NONCE_BYTES), plain)
  }

  /** `sealRandom`'s parts joined. */
  seal (plain: Uint8Array): Uint8Array {
    return Buffer.concat(this.sealRandom(plain))
  }

  private sealWith (nonce: Uint8Array, plain: Uint8Array): Uint8Array[] {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    const parts: Uint8Array[] = [nonce]
    for (let at = 0; at < plain.byteLength; at += SEAL_SLICE_BYTES) parts.push(cipher.update(plain.subarray(at, at + SEAL_SLICE_BYTES)))
    const final = cipher.final()
    if (final.byteLength > 0) parts.push(final)
    parts.push(cipher.getAuthTag())
    return parts
  }

  /** Open sealed bytes held whole: `opener` with them as its one piece. */
  open (sealed: Uint8Array): Uint8Array {
    const opener = this.opener(sealed.byteLength)
    const plain = opener.update(sealed)
    opener.final()
    return plain
  }

  /**
   * Open `sealedLength` sealed bytes as they arrive. Plaintext comes out
   * before the tag at the end is checked: the caller must not trust it
   * until `final` returns.
   */
  opener (sealedLength: number): PieceOpener {
    if (sealedLength < SEAL_OVERHEAD_BYTES) throw new DecryptError('sealed data too short')
    const bodyEnd = sealedLength - TAG_BYTES
    const nonce = Buffer.alloc(NONCE_BYTES)
    const tag = Buffer.alloc(TAG_BYTES)
    let decipher: DecipherGCM | undefined
    let position = 0
    return {
      update: piece => {
        const start = position
        const end = start + piece.byteLength
        if (end > sealedLength) throw new DecryptError('more sealed bytes than announced')
        position = end
        if (start < NONCE_BYTES) nonce.set(piece.subarray(0, Math.min(end, NONCE_BYTES) - start), start)
        if (end > bodyEnd) {
          const from = Math.max(start, bodyEnd)
          tag.set(piece.subarray(from - start), from - bodyEnd)
        }
        const bodyFrom = Math.max(start, NONCE_BYTES)
        const bodyTo = Math.min(end, bodyEnd)
        // a new empty array each time: a caller may transfer its buffer
        if (bodyFrom >= bodyTo) return new Uint8Array(0)
        decipher ??= createDecipheriv('aes-256-gcm', this.key, nonce)
        return decipher.update(piece.subarray(bodyFrom - start, bodyTo - start))
      },
      final: () => {
        if (position !== sealedLength) throw new DecryptError(`sealed data cut short: ${position} of ${sealedLength} bytes`)
        decipher ??= createDecipheriv('aes-256-gcm', this.key, nonce)
        decipher.setAuthTag(tag)
        try {
          decipher.final()
        } catch {
          throw new DecryptError(WRONG_KEY)
        }
      }
    }
  }
}
