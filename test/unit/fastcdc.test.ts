import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  DEFAULT_AVG_CHUNK_BYTES, DEFAULT_CHUNK_SIZES, DEFAULT_MAX_CHUNK_BYTES, DEFAULT_MIN_CHUNK_BYTES,
  FastCdc, gearTable, readCdcChunks, validateChunkSizes
} from '../../src/chunking/fastcdc.js'
import type { CdcChunk, ChunkSizes } from '../../src/chunking/fastcdc.js'
import { tempDir } from '../helpers/tmp.js'

const KIB = 1024
const MIB = 1024 * KIB
const SMALL: ChunkSizes = { minSize: 1 * KIB, avgSize: 4 * KIB, maxSize: 16 * KIB }

/** Fixed pseudo-random bytes (xorshift32), the same on every run and machine */
function pseudoRandom (length: number, seed = 0x12345678): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/**
 * FastCDC as the definition reads, a byte at a time: a chunk may end after
 * byte i when the gear hash of the 32 bytes up to i has no bit of the mask
 * set (log2(avg) + 2 bits below avg, log2(avg) - 2 from it on); the first
 * such end at or past minSize, else maxSize, else the end of the input.
 */
function referenceLengths (data: Uint8Array, sizes: ChunkSizes): number[] {
  const gear = gearTable()
  const bits = Math.round(Math.log2(sizes.avgSize))
  const mask = (n: number): number => ((2 ** n - 1) * 2 ** (31 - n)) >>> 0
  const hashAt = (i: number): number => {
    let h = 0
    for (let j = i - 31; j <= i; j++) h = ((h * 2) + gear[data[j]]) >>> 0
    return h
  }
  const out: number[] = []
  for (let start = 0; start < data.length;) {
    let length = Math.min(sizes.maxSize, data.length - start)
    for (let l = sizes.minSize; l < length; l++) {
      const m = mask(l < sizes.avgSize ? bits + 2 : bits - 2)
      if (((hashAt(start + l - 1) & m) >>> 0) === 0) { length = l; break }
    }
    out.push(length)
    start += length
  }
  return out
}

async function chunksOf (path: string, sizes: ChunkSizes = DEFAULT_CHUNK_SIZES, windowBytes?: number): Promise<CdcChunk[]> {
  const out: CdcChunk[] = []
  for await (const c of readCdcChunks(path, sizes, { windowBytes })) out.push(c)
  return out
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const lengthsOf = (chunks: CdcChunk[]): number[] => chunks.map(c => c.bytes.byteLength)

/** Chunks of `after` whose bytes are no chunk of `before` */
function changed (before: CdcChunk[], after: CdcChunk[]): number {
  const known = new Set(before.map(c => sha(c.bytes)))
  return after.filter(c => !known.has(sha(c.bytes))).length
}

describe('fastcdc', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let big: Buffer
  let bigPath: string
  let bigChunks: CdcChunk[]
  before(async () => {
    ({ dir, cleanup } = await tempDir())
    big = randomBytes(64 * MIB)
    bigPath = await file('big', big)
    bigChunks = await chunksOf(bigPath)
  })
  after(async () => { await cleanup() })

  async function file (name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, bytes)
    return path
  }

  it('keeps its gear table: these values must never change', () => {
    const gear = gearTable()
    assert.equal(gear.length, 256)
    assert.deepEqual([gear[0], gear[1], gear[2], gear[127], gear[255]], [0x9b8ddd51, 0x997673ab, 0x06bd1ea3, 0x7460f3d8, 0x548ad21c])
    assert.equal(new Set(gear).size, 256)
  })

  it('keeps its cut points on fixed input: these lengths must never change', async () => {
    const data = pseudoRandom(256 * KIB)
    const got = lengthsOf(await chunksOf(await file('pinned', data), SMALL))
    assert.deepEqual(got.slice(0, 12), [5744, 4177, 4123, 7098, 4267, 2856, 5450, 4436, 4862, 4860, 6149, 4833])
    assert.equal(got.length, 59)
    // every length, as 3 big-endian bytes each
    assert.equal(sha(Uint8Array.from(got.flatMap(l => [l >>> 16, (l >>> 8) & 0xff, l & 0xff]))), '8ed708b378006d23ff5332353bb9793dd36ad75de171dc071850589854d51106')
    const defaults = lengthsOf(await chunksOf(await file('pinned-default', pseudoRandom(24 * MIB, 0x9abcdef0))))
    assert.deepEqual(defaults, [1526700, 5514262, 2158109, 2871600, 3141766, 2294476, 961715, 2351172, 2222851, 2123173])
  })

  it('cuts where the definition, a byte at a time, says', async () => {
    for (const [seed, sizes] of [[1, SMALL], [2, { minSize: 64, avgSize: 256, maxSize: 1000 }], [3, { minSize: 3000, avgSize: 5000, maxSize: 9001 }]] as const) {
      const data = pseudoRandom(200 * KIB + seed, seed)
      const path = await file(`reference-${seed}`, data)
      const want = referenceLengths(data, sizes)
      assert.deepEqual(lengthsOf(await chunksOf(path, sizes)), want, `sizes ${JSON.stringify(sizes)}`)
      // a window barely larger than a chunk: most chunks are found over two windows
      assert.deepEqual(lengthsOf(await chunksOf(path, sizes, sizes.maxSize + 333)), want, `sizes ${JSON.stringify(sizes)}, small window`)
    }
  })

  it('rebuilds the file exactly, from chunks within [minSize, maxSize] at their offsets', () => {
    assert.ok(Buffer.concat(bigChunks.map(c => c.bytes)).equals(big))
    let offset = 0
    for (const [i, c] of bigChunks.entries()) {
      assert.equal(c.index, i)
      assert.equal(c.offset, offset)
      offset += c.bytes.byteLength
      if (i < bigChunks.length - 1) {
        assert.ok(c.bytes.byteLength >= DEFAULT_MIN_CHUNK_BYTES && c.bytes.byteLength <= DEFAULT_MAX_CHUNK_BYTES, `chunk ${i}: ${c.bytes.byteLength} bytes`)
      }
    }
  })

  it('averages avgSize within 30 % over 64 MiB of random bytes', () => {
    const mean = big.length / bigChunks.length
    assert.ok(Math.abs(mean - DEFAULT_AVG_CHUNK_BYTES) <= 0.3 * DEFAULT_AVG_CHUNK_BYTES, `mean ${mean} bytes`)
  })

  it('gives the same cuts on every read and for every read window', async () => {
    assert.deepEqual(lengthsOf(await chunksOf(bigPath)), lengthsOf(bigChunks))
    assert.deepEqual(lengthsOf(await chunksOf(bigPath, DEFAULT_CHUNK_SIZES, DEFAULT_MAX_CHUNK_BYTES)), lengthsOf(bigChunks))
    assert.deepEqual(lengthsOf(await chunksOf(bigPath, DEFAULT_CHUNK_SIZES, 3 * DEFAULT_MAX_CHUNK_BYTES + 12345)), lengthsOf(bigChunks))
    const data = randomBytes(1 * MIB + 7)
    const path = await file('windows', data)
    const want = lengthsOf(await chunksOf(path, SMALL))
    for (const window of [SMALL.maxSize, SMALL.maxSize + 1, 20_000, 65_537, 4 * MIB]) {
      assert.deepEqual(lengthsOf(await chunksOf(path, SMALL, window)), want, `window ${window}`)
    }
  })

  it('changes at most 3 chunks for 100 bytes inserted into or deleted from the middle of 64 MiB', async () => {
    const middle = big.length / 2
    const inserted = Buffer.concat([big.subarray(0, middle), randomBytes(100), big.subarray(middle)])
    const deleted = Buffer.concat([big.subarray(0, middle), big.subarray(middle + 100)])
    for (const [name, edited] of [['inserted', inserted], ['deleted', deleted]] as const) {
      const after = await chunksOf(await file(name, edited))
      const n = changed(bigChunks, after)
      assert.ok(n >= 1 && n <= 3, `${name}: ${n} chunks changed`)
      assert.ok(Buffer.concat(after.map(c => c.bytes)).equals(edited))
    }
  })

  it('reads an empty file as no chunks, and a file up to minSize as one', async () => {
    assert.deepEqual(await chunksOf(await file('empty', new Uint8Array(0))), [])
    const one = await chunksOf(await file('one', Uint8Array.of(42)))
    assert.equal(one.length, 1)
    assert.deepEqual({ index: one[0].index, offset: one[0].offset, bytes: [...one[0].bytes] }, { index: 0, offset: 0, bytes: [42] })
    for (const size of [DEFAULT_MIN_CHUNK_BYTES - 1, DEFAULT_MIN_CHUNK_BYTES, DEFAULT_MIN_CHUNK_BYTES + 1]) {
      const data = randomBytes(size)
      const got = await chunksOf(await file(`small-${size}`, data))
      assert.equal(got.length, 1, `${size} bytes`)
      assert.ok(Buffer.from(got[0].bytes).equals(data))
    }
  })

  it('cuts zeros, which never match a mask, at maxSize', async () => {
    assert.deepEqual(lengthsOf(await chunksOf(await file('zeros', new Uint8Array(DEFAULT_MAX_CHUNK_BYTES)))), [DEFAULT_MAX_CHUNK_BYTES])
    assert.deepEqual(lengthsOf(await chunksOf(await file('zeros-small', new Uint8Array(2 * SMALL.maxSize + 5)), SMALL)), [SMALL.maxSize, SMALL.maxSize, 5])
  })

  it('works with small sizes', async () => {
    const data = randomBytes(4 * MIB)
    const got = await chunksOf(await file('small-sizes', data), SMALL)
    assert.ok(Buffer.concat(got.map(c => c.bytes)).equals(data))
    for (const c of got.slice(0, -1)) assert.ok(c.bytes.byteLength >= SMALL.minSize && c.bytes.byteLength <= SMALL.maxSize)
    const mean = data.length / got.length
    assert.ok(Math.abs(mean - SMALL.avgSize) <= 0.3 * SMALL.avgSize, `mean ${mean} bytes`)
  })

  it('lets a consumer keep chunks: a window is never written again', async () => {
    const data = randomBytes(1 * MIB)
    const kept: Uint8Array[] = []
    for await (const c of readCdcChunks(await file('keep', data), SMALL, { windowBytes: SMALL.maxSize + 100 })) kept.push(c.bytes)
    assert.ok(Buffer.concat(kept).equals(data))
  })

  it('asks for more bytes rather than cut at the end of what it has, and resumes where it stopped', () => {
    const cdc = new FastCdc(SMALL)
    const data = pseudoRandom(SMALL.maxSize * 2, 7)
    const whole = cdc.cutPoint(data, 0, data.length, false)
    assert.ok(whole >= SMALL.minSize && whole <= SMALL.maxSize)
    assert.equal(cdc.cutPoint(data, 0, whole - 1, false), 0)
    assert.equal(cdc.cutPoint(data, 0, whole - 1, true), whole - 1)
    assert.equal(cdc.cutPoint(data, 0, whole - 1, false, SMALL.minSize + 10), 0)
    assert.equal(cdc.cutPoint(data, 0, data.length, false, whole - 1), whole)
    assert.equal(cdc.cutPoint(data, 0, 10, false), 0)
    assert.equal(cdc.cutPoint(data, 0, 0, true), 0)
    assert.equal(cdc.cutPoint(new Uint8Array(SMALL.maxSize + 1), 0, SMALL.maxSize + 1, false), SMALL.maxSize)
    assert.throws(() => cdc.cutPoint(data, 5, 4, true), RangeError)
    assert.throws(() => cdc.cutPoint(data, 0, data.length + 1, true), RangeError)
  })

  it('stops when the signal aborts', async () => {
    const path = await file('abort', randomBytes(256 * KIB))
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await assert.rejects(async () => { for await (const _ of readCdcChunks(path, SMALL, { signal: controller.signal })) { /* nothing */ } }, /stop/)
    const later = new AbortController()
    let seen = 0
    await assert.rejects(async () => {
      for await (const _ of readCdcChunks(path, SMALL, { signal: later.signal })) {
        if (++seen === 2) later.abort(new Error('stop later'))
      }
    }, /stop later/)
    assert.equal(seen, 2)
  })

  it('refuses sizes that do not grow, are not whole, or are out of bounds', async () => {
    assert.deepEqual(validateChunkSizes(DEFAULT_CHUNK_SIZES), { minSize: DEFAULT_MIN_CHUNK_BYTES, avgSize: DEFAULT_AVG_CHUNK_BYTES, maxSize: DEFAULT_MAX_CHUNK_BYTES })
    for (const sizes of [
      { minSize: 4 * KIB, avgSize: 4 * KIB, maxSize: 16 * KIB },
      { minSize: 8 * KIB, avgSize: 4 * KIB, maxSize: 16 * KIB },
      { minSize: 1 * KIB, avgSize: 16 * KIB, maxSize: 16 * KIB },
      { minSize: 1024.5, avgSize: 4 * KIB, maxSize: 16 * KIB },
      { minSize: 1 * KIB, avgSize: Number.NaN, maxSize: 16 * KIB },
      { minSize: 32, avgSize: 4 * KIB, maxSize: 16 * KIB },
      { minSize: 1 * KIB, avgSize: 4 * KIB, maxSize: 2 * 1024 * MIB }
    ]) {
      assert.throws(() => new FastCdc(sizes), RangeError, JSON.stringify(sizes))
      await assert.rejects(chunksOf(bigPath, sizes), RangeError)
    }
    await assert.rejects(chunksOf(bigPath, SMALL, SMALL.maxSize - 1), RangeError)
  })
})
