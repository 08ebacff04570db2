import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { COMPRESSION_SAMPLE_BYTES, compressBlob, decompressBlob, DecompressError, MIN_COMPRESS_BYTES } from '../../src/chunking/compress.js'

/** Text-like bytes: words from a small vocabulary in a seeded order. */
const texts = new Map<string, Uint8Array>()
function text (size: number, seed = 1): Uint8Array {
  const key = `${size}/${seed}`
  let made = texts.get(key)
  if (made === undefined) texts.set(key, made = makeText(size, seed))
  return made
}

function makeText (size: number, seed: number): Uint8Array {
  const words = ['backup', 'chunk', 'peer', 'tree', 'blob', 'const', 'return', 'function', '{', '}', '\n', 'the', 'of', 'file', 'size']
  let x = seed
  let s = ''
  while (s.length < size) {
    x = (x * 1103515245 + 12345) >>> 0
    s += words[(x >>> 16) % words.length] + ' '
  }
  return Buffer.from(s.slice(0, size))
}

function roundTrip (plain: Uint8Array): { bytes: Uint8Array, compressed: boolean } {
  const out = compressBlob(plain, 'auto')
  const back = out.compressed ? decompressBlob(out.bytes, plain.byteLength) : out.bytes
  assert.ok(Buffer.from(back).equals(plain), `size ${plain.byteLength}`)
  return out
}

/** The zstd frame of some compressible bytes, and their size. */
function frame (size = 4096): { bytes: Uint8Array, plainLength: number } {
  const out = compressBlob(text(size), 'auto')
  assert.equal(out.compressed, true)
  return { bytes: out.bytes, plainLength: size }
}

describe('compressBlob / decompressBlob', () => {
  it('judges a large blob by its first bytes: compressed when they compress, kept as it is when they do not', () => {
    const compressible = text(1024 * 1024, 3)
    assert.equal(roundTrip(compressible).compressed, true)
    // random first bytes, then text: kept, as media with a compressible tail would be
    const mixed = Buffer.concat([randomBytes(COMPRESSION_SAMPLE_BYTES), text(1024 * 1024, 4)])
    const kept = roundTrip(mixed)
    assert.equal(kept.compressed, false)
    assert.equal(kept.bytes, mixed)
    // the same blob twice: the same choice
    assert.equal(compressBlob(mixed, 'auto').compressed, false)
  })

  it('round-trips empty, 1 byte, 4 KiB text, 2 MiB random and 8 MiB text', () => {
    assert.equal(roundTrip(new Uint8Array(0)).compressed, false)
    assert.equal(roundTrip(Uint8Array.of(7)).compressed, false)
    const small = roundTrip(text(4096))
    assert.equal(small.compressed, true)
    assert.ok(small.bytes.byteLength < 4096 / 2)
    roundTrip(randomBytes(2 * 1024 * 1024))
    const big = roundTrip(text(8 * 1024 * 1024))
    assert.equal(big.compressed, true)
    assert.ok(big.bytes.byteLength < 8 * 1024 * 1024 / 2)
  })

  it('decompresses a frame that is a view into a larger buffer', () => {
    const { bytes, plainLength } = frame()
    const big = new Uint8Array(bytes.byteLength + 20)
    big.set(bytes, 10)
    assert.ok(Buffer.from(decompressBlob(big.subarray(10, 10 + bytes.byteLength), plainLength)).equals(text(plainLength)))
  })

  it('keeps random data as it is', () => {
    for (const size of [100, 4096, 2 * 1024 * 1024]) {
      const plain = randomBytes(size)
      const out = compressBlob(plain, 'auto')
      assert.equal(out.compressed, false)
      assert.equal(out.bytes, plain)
    }
  })

  it('keeps inputs under MIN_COMPRESS_BYTES as they are, even compressible ones', () => {
    const plain = new Uint8Array(MIN_COMPRESS_BYTES - 1)
    assert.deepEqual(compressBlob(plain, 'auto'), { bytes: plain, compressed: false })
    assert.equal(compressBlob(new Uint8Array(MIN_COMPRESS_BYTES), 'auto').compressed, true)
  })

  it("never compresses with mode 'off'", () => {
    for (const plain of [new Uint8Array(0), new Uint8Array(4096), text(1024 * 1024)]) {
      const out = compressBlob(plain, 'off')
      assert.equal(out.compressed, false)
      assert.equal(out.bytes, plain)
    }
  })

  it('compresses the same bytes to the same output, different bytes differently', () => {
    for (const size of [100, 4096, 2 * 1024 * 1024]) {
      const a = compressBlob(text(size), 'auto').bytes
      const b = compressBlob(Uint8Array.from(text(size)), 'auto').bytes
      assert.ok(Buffer.from(a).equals(b), `size ${size}`)
      assert.equal(Buffer.from(a).equals(compressBlob(text(size, 2), 'auto').bytes), false)
    }
  })

  it('refuses corrupt and truncated frames with DecompressError', () => {
    const { bytes, plainLength } = frame()
    let refused = 0
    for (let at = 0; at < bytes.byteLength; at++) {
      const bad = Uint8Array.from(bytes)
      bad[at] ^= 0x55
      try {
        const out = decompressBlob(bad, plainLength)
        // a change in a literal may decompress (there is no checksum): never to another size
        assert.equal(out.byteLength, plainLength)
      } catch (err) {
        assert.ok(err instanceof DecompressError, `byte ${at}: ${String(err)}`)
        refused++
      }
    }
    assert.ok(refused > 0)
    for (const end of [0, 1, 4, 5, 8, bytes.byteLength - 1]) {
      assert.throws(() => decompressBlob(bytes.subarray(0, end), plainLength), { name: 'DecompressError' }, `first ${end} bytes`)
    }
    assert.throws(() => decompressBlob(randomBytes(1000), plainLength), { name: 'DecompressError' })
    // a second frame after the first is more than the blob
    const twice = Buffer.concat([bytes, bytes])
    assert.throws(() => decompressBlob(twice, plainLength), { name: 'DecompressError' })
  })

  it('refuses a wrong plainLength with DecompressError', () => {
    const { bytes, plainLength } = frame()
    for (const wrong of [0, 1, plainLength - 1, plainLength + 1, plainLength * 2, -1, 1.5, Number.NaN]) {
      assert.throws(() => decompressBlob(bytes, wrong), (err: unknown) => err instanceof DecompressError, `plainLength ${wrong}`)
    }
  })

  it('does not allocate a huge plainLength claimed by a small input', () => {
    const { bytes } = frame()
    const before = process.memoryUsage().rss
    assert.throws(() => decompressBlob(bytes, 4 * 1024 ** 3), { name: 'DecompressError' })
    assert.throws(() => decompressBlob(bytes, Number.MAX_SAFE_INTEGER), { name: 'DecompressError' })
    // a frame that declares 1 GiB of content (an RLE block that would make 128 KiB
    // again and again) is refused against the real plainLength before anything is made
    const header = Buffer.from([0x28, 0xB5, 0x2F, 0xFD, 0x80 | 0x20, 0, 0, 0, 0x40])
    const rle = Buffer.from([(128 * 1024) << 3 | 0b010, ((128 * 1024) << 3) >> 8, ((128 * 1024) << 3) >> 16, 0x61])
    const bomb = Buffer.concat([header, rle])
    assert.throws(() => decompressBlob(bomb, 4096), { name: 'DecompressError' })
    assert.throws(() => decompressBlob(bomb, 1024 ** 3), { name: 'DecompressError' })
    assert.throws(() => decompressBlob(bytes, 400 * 1024 * 1024), { name: 'DecompressError' })
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024)
  })
})
