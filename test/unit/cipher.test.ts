import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { DataCipher, DecryptError, SEAL_OVERHEAD_BYTES } from '../../src/chunking/cipher.js'

describe('DataCipher', () => {
  const secret = randomBytes(32)

  it('opens what it sealed, for empty, small and chunk-sized pieces', () => {
    const cipher = new DataCipher(secret)
    for (const size of [0, 1, 100, 64000, 1024 * 1024]) {
      const plain = randomBytes(size)
      const sealed = cipher.seal(plain)
      assert.equal(sealed.byteLength, size + SEAL_OVERHEAD_BYTES)
      assert.ok(Buffer.from(cipher.open(sealed)).equals(plain), `size ${size}`)
    }
  })

  it('does not leak the plaintext into the sealed bytes', () => {
    const plain = Buffer.alloc(4096, 'a')
    const sealed = Buffer.from(new DataCipher(secret).seal(plain))
    assert.equal(sealed.includes(Buffer.alloc(64, 'a')), false)
  })

  it('seals the same bytes differently each time (a random nonce), and another instance of the key opens them', () => {
    const plain = randomBytes(1000)
    const a = new DataCipher(secret).seal(plain)
    const b = new DataCipher(secret).seal(plain)
    assert.equal(Buffer.from(a).equals(b), false)
    assert.equal(Buffer.from(a.subarray(0, 12)).equals(b.subarray(0, 12)), false, 'different nonces')
    assert.ok(Buffer.from(new DataCipher(Uint8Array.from(secret)).open(a)).equals(plain))
    assert.ok(Buffer.from(new DataCipher(Uint8Array.from(secret)).open(b)).equals(plain))
  })

  it('names the same content by the same id under the same key only', () => {
    const plain = randomBytes(1000)
    assert.ok(Buffer.from(new DataCipher(secret).blobId(plain)).equals(new DataCipher(Uint8Array.from(secret)).blobId(plain)))
    assert.equal(Buffer.from(new DataCipher(secret).blobId(plain)).equals(new DataCipher(randomBytes(32)).blobId(plain)), false)
    const other = Uint8Array.from(plain)
    other[999] ^= 1
    assert.equal(Buffer.from(new DataCipher(secret).blobId(plain)).equals(new DataCipher(secret).blobId(other)), false)
  })

  it('refuses tampered bytes with DecryptError, wherever the change is', () => {
    const cipher = new DataCipher(secret)
    const sealed = cipher.seal(randomBytes(500))
    for (const at of [0, 11, 12, 300, sealed.byteLength - 1]) {
      const bad = Uint8Array.from(sealed)
      bad[at] ^= 0x80
      assert.throws(() => cipher.open(bad), (err: Error) => err.name === 'DecryptError', `byte ${at}`)
    }
    assert.throws(() => cipher.open(sealed.subarray(0, sealed.byteLength - 1)), { name: 'DecryptError' })
    assert.throws(() => cipher.open(new Uint8Array(SEAL_OVERHEAD_BYTES - 1)), { name: 'DecryptError' })
  })

  it('refuses bytes sealed under another key with DecryptError', () => {
    const sealed = new DataCipher(secret).seal(randomBytes(200))
    assert.throws(() => new DataCipher(randomBytes(32)).open(sealed), (err: unknown) => err instanceof DecryptError)
  })

  it('opens a sealed piece that is a view into a larger buffer', () => {
    const cipher = new DataCipher(secret)
    const plain = randomBytes(333)
    const sealed = cipher.seal(plain)
    const big = new Uint8Array(sealed.byteLength + 20)
    big.set(sealed, 10)
    assert.ok(Buffer.from(cipher.open(big.subarray(10, 10 + sealed.byteLength))).equals(plain))
  })

  it('opens sealed bytes handed in pieces of any size, as open does', () => {
    const cipher = new DataCipher(secret)
    const plain = randomBytes(100_000)
    const sealed = cipher.seal(plain)
    for (const size of [1, 5, 12, 13, 16, 17, 1000, 65536, sealed.byteLength]) {
      const opener = cipher.opener(sealed.byteLength)
      const out: Uint8Array[] = []
      for (let at = 0; at < sealed.byteLength; at += size) out.push(Uint8Array.from(opener.update(sealed.subarray(at, at + size))))
      opener.final()
      assert.ok(Buffer.concat(out).equals(plain), `pieces of ${size}`)
    }
    const empty = cipher.seal(new Uint8Array(0))
    const opener = cipher.opener(empty.byteLength)
    assert.equal(opener.update(empty).byteLength, 0)
    opener.final()
  })

  it('refuses tampered, cut or overlong pieces with DecryptError at the end', () => {
    const cipher = new DataCipher(secret)
    const sealed = cipher.seal(randomBytes(500))
    for (const at of [0, 11, 12, 300, sealed.byteLength - 1]) {
      const bad = Uint8Array.from(sealed)
      bad[at] ^= 0x80
      const opener = cipher.opener(bad.byteLength)
      opener.update(bad.subarray(0, 200))
      opener.update(bad.subarray(200))
      assert.throws(() => { opener.final() }, { name: 'DecryptError' }, `byte ${at}`)
    }
    const cut = cipher.opener(sealed.byteLength)
    cut.update(sealed.subarray(0, sealed.byteLength - 1))
    assert.throws(() => { cut.final() }, { name: 'DecryptError' })
    const long = cipher.opener(sealed.byteLength - 1)
    assert.throws(() => long.update(sealed), { name: 'DecryptError' })
    assert.throws(() => cipher.opener(SEAL_OVERHEAD_BYTES - 1), { name: 'DecryptError' })
  })

  it('gives sealed bytes as parts of at most 64 KiB, not joined', () => {
    const cipher = new DataCipher(secret)
    for (const size of [0, 100, 64 * 1024, 1024 * 1024 + 5]) {
      const plain = randomBytes(size)
      const parts = cipher.sealRandom(plain)
      assert.ok(Buffer.from(cipher.open(Buffer.concat(parts))).equals(plain), `size ${size}`)
      assert.ok(parts.every(p => p.byteLength <= 64 * 1024), `size ${size}: ${Math.max(...parts.map(p => p.byteLength))}`)
    }
  })
})
