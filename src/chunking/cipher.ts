import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto'

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

  seal (plain: Uint8Array): Uint8Array {
    const nonce = createHmac('sha256', this.nonceKey).update(plain).digest().subarray(0, NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    const out = Buffer.allocUnsafe(plain.byteLength + SEAL_OVERHEAD_BYTES)
    nonce.copy(out, 0)
    const body = cipher.update(plain)
    body.copy(out, NONCE_BYTES)
    const final = cipher.final()
    final.copy(out, NONCE_BYTES + body.length)
    cipher.getAuthTag().copy(out, NONCE_BYTES + body.length + final.length)
    return out
  }

  open (sealed: Uint8Array): Uint8Array {
    if (sealed.byteLength < SEAL_OVERHEAD_BYTES) throw new DecryptError('sealed data too short')
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
    const decipher = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, NONCE_BYTES))
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES))
    try {
      const body = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES))
      const final = decipher.final()
      return final.length === 0 ? body : Buffer.concat([body, final])
    } catch {
      throw new DecryptError('sealed data does not open with this node\'s key')
    }
  }
}
