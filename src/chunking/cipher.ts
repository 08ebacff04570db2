import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'

const NONCE_BYTES = 12
const TAG_BYTES = 16
/** What sealing adds to a piece: nonce and tag. */
export const SEAL_OVERHEAD_BYTES = NONCE_BYTES + TAG_BYTES

/** Sealed bytes that do not open with this node's key. */
export class DecryptError extends Error {
  static override name = 'DecryptError'
  override name = 'DecryptError'
}

/**
 * Encrypts pieces before they leave the node: AES-256-GCM with a nonce
 * derived from the plaintext (HMAC-SHA256 under a separate key), so the same
 * bytes seal to the same ciphertext and a re-run backup of unchanged data
 * has the same chunk CIDs, while holders learn nothing but sizes. Output is
 * nonce ‖ ciphertext ‖ tag.
 */
export class DataCipher {
  private readonly key: Buffer
  private readonly nonceKey: Buffer

  constructor (dataSecret: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', dataSecret, new Uint8Array(0), 'backpack/seal-key/v1', 32))
    this.nonceKey = Buffer.from(hkdfSync('sha256', dataSecret, new Uint8Array(0), 'backpack/seal-nonce/v1', 32))
  }

  /** Seal a piece into one buffer: nonce ‖ ciphertext ‖ tag. */
  seal (plain: Uint8Array): Uint8Array {
    return this.sealPieces(plain).subarray()
  }

  /** Seal a piece, as the list nonce, ciphertext, tag: not copied into one buffer. */
  sealPieces (plain: Uint8Array): Uint8ArrayList {
    const nonce = createHmac('sha256', this.nonceKey).update(plain).digest().subarray(0, NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    const sealed = new Uint8ArrayList(nonce, cipher.update(plain))
    const final = cipher.final()
    if (final.byteLength > 0) sealed.append(final)
    sealed.append(cipher.getAuthTag())
    return sealed
  }

  /** Open sealed bytes into one buffer (manifests). */
  open (sealed: Uint8Array | Uint8ArrayList): Uint8Array {
    return this.openPieces(sealed).subarray()
  }

  /**
   * Open sealed bytes, one piece of plaintext per buffer of `sealed`: a
   * chunk that arrived in many frames is never joined into one buffer.
   */
  openPieces (sealed: Uint8Array | Uint8ArrayList): Uint8ArrayList {
    const length = sealed.byteLength
    if (length < SEAL_OVERHEAD_BYTES) throw new DecryptError('sealed data too short')
    const list = sealed instanceof Uint8ArrayList ? sealed : new Uint8ArrayList(sealed)
    const decipher = createDecipheriv('aes-256-gcm', this.key, list.subarray(0, NONCE_BYTES))
    decipher.setAuthTag(list.subarray(length - TAG_BYTES, length))
    const plain = new Uint8ArrayList()
    try {
      for (const buf of list.sublist(NONCE_BYTES, length - TAG_BYTES)) plain.append(decipher.update(buf))
      const final = decipher.final()
      if (final.byteLength > 0) plain.append(final)
    } catch {
      throw new DecryptError('sealed data does not open with this node\'s key')
    }
    return plain
  }
}
