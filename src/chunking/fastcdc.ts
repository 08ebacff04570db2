// Content-defined chunking: FastCDC (Xia et al., "The Design of Fast
// Content-Defined Chunking for Data Deduplication Based Storage Systems",
// IEEE TPDS 2020) with normalized chunking at level 2 and the paper's
// "rolling two bytes each time". Bytes inserted into or deleted from a file
// move the cut points near the edit only, so the chunks elsewhere keep their
// names and need not be stored again.
//
// Boundaries must never change between versions (a changed cut point makes
// every chunk of every file new): the gear table, the masks and the rule for
// where hashing starts are fixed, and test/unit/fastcdc.test.ts pins them.
import { open } from 'node:fs/promises'

/** @default 512 KiB: no chunk but a file's last is shorter */
export const DEFAULT_MIN_CHUNK_BYTES = 512 * 1024
/** @default 2 MiB: the size the masks aim at */
export const DEFAULT_AVG_CHUNK_BYTES = 2 * 1024 * 1024
/** @default 8 MiB: a chunk is cut here when no cut point came before */
export const DEFAULT_MAX_CHUNK_BYTES = 8 * 1024 * 1024

/** The smallest minSize allowed: it must hold a whole hash window (see GEAR_WINDOW_BYTES). */
export const SMALLEST_MIN_CHUNK_BYTES = 64
/** The largest maxSize allowed: offsets stay small integers and a window stays one Buffer. */
export const LARGEST_MAX_CHUNK_BYTES = 1024 * 1024 * 1024

/** @default 16 MiB per read; at least maxSize, and at least twice maxSize when not given */
export const DEFAULT_READ_WINDOW_BYTES = 16 * 1024 * 1024

/**
 * Bytes whose gear values make up the hash at a position: the hash is 32
 * bits and shifts left by one per byte, so a byte's value has left it 32
 * bytes later. Hashing starts this many bytes before the first position a
 * chunk may end at, so every cut decision depends on the 32 bytes before the
 * position alone, never on where the chunk began (the paper starts from a
 * zero hash at minSize; warming up 32 bytes earlier costs 32 bytes a chunk).
 */
const GEAR_WINDOW_BYTES = 32

/**
 * Normalization level 2 of the paper: below avgSize the mask has 2 bits
 * more than log2(avgSize) (cuts are 4x rarer), from avgSize on 2 bits fewer
 * (4x likelier), which narrows the spread of chunk sizes around avgSize.
 */
const NORMALIZATION_BITS = 2

/** Fixed seed of the gear table: "back" in ASCII. Never change it. */
const GEAR_SEED = 0x6261636b
/** The Weyl sequence step of the generator (2^32 / golden ratio) */
const GEAR_STEP = 0x9e3779b9

export interface ChunkSizes {
  /** No chunk but the last is shorter (bytes) */
  minSize: number
  /** The chunk size aimed at (bytes); masks come from log2 of it, rounded */
  avgSize: number
  /** No chunk is longer (bytes) */
  maxSize: number
}

export const DEFAULT_CHUNK_SIZES: Readonly<ChunkSizes> = Object.freeze({
  minSize: DEFAULT_MIN_CHUNK_BYTES,
  avgSize: DEFAULT_AVG_CHUNK_BYTES,
  maxSize: DEFAULT_MAX_CHUNK_BYTES
})

/**
 * The gear table: 256 pseudo-random 32-bit values, one per byte value, from
 * murmur3's 32-bit finalizer over a Weyl sequence from GEAR_SEED. The
 * finalizer is a bijection, so the 256 values are distinct. A fresh copy.
 */
export function gearTable (): Uint32Array {
  const table = new Uint32Array(256)
  let state = GEAR_SEED
  for (let i = 0; i < 256; i++) {
    state = (state + GEAR_STEP) | 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    table[i] = (z ^ (z >>> 16)) >>> 0
  }
  return table
}

// The same bits as Int32Array: V8 keeps int32 loads in registers as small
// integers, where a Uint32Array value above 2^31 becomes a double
const GEAR = new Int32Array(gearTable().buffer)
/** Each value shifted left by one, for the second byte of a two-byte step */
const GEAR_SHIFTED = GEAR.map(g => g << 1)

/**
 * A mask of `bits` ones ending at bit 30. High bits, since bit k of the hash
 * depends on the last k + 1 bytes; not bit 31, so that a mask shifted left
 * by one (the two-byte step) keeps all its bits.
 */
function maskOf (bits: number): number {
  return ((0xffffffff >>> (32 - bits)) << (31 - bits)) | 0
}

/** `sizes` checked: whole numbers, min < avg < max, within the bounds above. */
export function validateChunkSizes (sizes: ChunkSizes): ChunkSizes {
  const { minSize, avgSize, maxSize } = sizes
  for (const [name, value] of Object.entries({ minSize, avgSize, maxSize })) {
    if (!Number.isSafeInteger(value)) throw new RangeError(`chunk ${name} must be a whole number of bytes, not ${String(value)}`)
  }
  if (minSize < SMALLEST_MIN_CHUNK_BYTES) throw new RangeError(`chunk minSize must be at least ${SMALLEST_MIN_CHUNK_BYTES} bytes, not ${minSize}`)
  if (maxSize > LARGEST_MAX_CHUNK_BYTES) throw new RangeError(`chunk maxSize must be at most ${LARGEST_MAX_CHUNK_BYTES} bytes, not ${maxSize}`)
  if (!(minSize < avgSize && avgSize < maxSize)) throw new RangeError(`chunk sizes must grow: min ${minSize} < avg ${avgSize} < max ${maxSize}`)
  return { minSize, avgSize, maxSize }
}

/**
 * Finds cut points in bytes. Pure: the same bytes give the same cuts,
 * whatever the buffers they are read in.
 */
export class FastCdc {
  readonly sizes: Readonly<ChunkSizes>
  /** Mask below avgSize (stricter) and from it on (looser), and both shifted by one */
  private readonly maskS: number
  private readonly maskL: number
  private readonly maskS2: number
  private readonly maskL2: number

  constructor (sizes: ChunkSizes = DEFAULT_CHUNK_SIZES) {
    this.sizes = Object.freeze(validateChunkSizes(sizes))
    const bits = Math.round(Math.log2(this.sizes.avgSize))
    this.maskS = maskOf(bits + NORMALIZATION_BITS)
    this.maskL = maskOf(bits - NORMALIZATION_BITS)
    this.maskS2 = this.maskS << 1
    this.maskL2 = this.maskL << 1
  }

  /**
   * The length of the chunk that starts at `buf[start]`, with the bytes up
   * to `end` at hand; `final` says no bytes follow `end` (the end of the
   * file). 0 when the chunk may end after `end`: call again with more bytes.
   * `scanned`: an earlier call for this chunk returned 0 after looking at
   * the bytes up to this offset (its `end`, in this buffer's offsets); the
   * scan resumes there rather than from the chunk's start.
   */
  cutPoint (buf: Uint8Array, start: number, end: number, final: boolean, scanned = start): number {
    const { minSize, avgSize, maxSize } = this.sizes
    if (!(start >= 0 && start <= end && end <= buf.length)) throw new RangeError(`bad range ${start}..${end} of ${buf.length} bytes`)
    const available = end - start
    if (available >= maxSize) end = start + maxSize
    else if (available < minSize) return final ? available : 0
    // the byte whose hash decides the first chunk end not yet looked at
    const first = Math.max(start + minSize, scanned + 1) - 1
    const found = first < end ? this.scan(buf, first, start + avgSize - 1, end) : -1
    if (found >= 0) return found + 1 - start
    if (available >= maxSize) return maxSize
    return final ? available : 0
  }

  /**
   * The first index i in [first, end) whose hash (of the bytes up to and
   * including buf[i]) matches the mask, the strict one while i < normal; -1
   * when none does. The hot loop: two bytes a step, checked one by one.
   */
  private scan (buf: Uint8Array, first: number, normal: number, end: number): number {
    const gear = GEAR
    const gear2 = GEAR_SHIFTED
    let i = first + 1 - GEAR_WINDOW_BYTES
    let fp = 0
    // warm-up: the hash at `first` covers a whole window
    for (; i < first; i++) fp = ((fp << 1) + gear[buf[i]]) | 0

    // below avgSize, the stricter mask. x is the hash after buf[i] shifted
    // left by one, computed from two bytes back in one shift; bit 31 of the
    // mask shifted by one is clear, so x & mask2 tests the hash after buf[i]
    const sEnd = Math.min(normal, end)
    let mask = this.maskS
    let mask2 = this.maskS2
    for (; i + 1 < sEnd; i += 2) {
      const x = ((fp << 2) + gear2[buf[i]]) | 0
      if ((x & mask2) === 0) return i
      fp = (x + gear[buf[i + 1]]) | 0
      if ((fp & mask) === 0) return i + 1
    }
    if (i < sEnd) {
      fp = ((fp << 1) + gear[buf[i]]) | 0
      if ((fp & mask) === 0) return i
      i++
    }

    // from avgSize on, the looser mask
    mask = this.maskL
    mask2 = this.maskL2
    for (; i + 1 < end; i += 2) {
      const x = ((fp << 2) + gear2[buf[i]]) | 0
      if ((x & mask2) === 0) return i
      fp = (x + gear[buf[i + 1]]) | 0
      if ((fp & mask) === 0) return i + 1
    }
    if (i < end) {
      fp = ((fp << 1) + gear[buf[i]]) | 0
      if ((fp & mask) === 0) return i
    }
    return -1
  }
}

export interface CdcChunk {
  index: number
  /** Where in the file the chunk starts */
  offset: number
  bytes: Uint8Array
}

/**
 * Read a file as content-defined chunks. The file is read in windows of
 * `windowBytes`; each chunk is a view into the window it was found in, and a
 * window is never written again once a chunk of it is out, so a consumer may
 * keep chunks (keeping one keeps its window alive: copy it to keep it
 * alone). The reader itself holds at most two windows whatever the file
 * size. An empty file has no chunks.
 */
export async function * readCdcChunks (path: string, sizes: ChunkSizes = DEFAULT_CHUNK_SIZES, options: { signal?: AbortSignal, windowBytes?: number } = {}): AsyncGenerator<CdcChunk> {
  const cdc = new FastCdc(sizes)
  const { maxSize } = cdc.sizes
  const windowBytes = options.windowBytes ?? Math.max(DEFAULT_READ_WINDOW_BYTES, 2 * maxSize)
  if (!Number.isSafeInteger(windowBytes) || windowBytes < maxSize) throw new RangeError(`the read window must hold a whole chunk of ${maxSize} bytes, not ${windowBytes}`)
  options.signal?.throwIfAborted()
  const handle = await open(path, 'r')
  try {
    let window = Buffer.allocUnsafe(0)
    /** Bytes of `window` read, where the next chunk starts in it, and how far it was scanned */
    let filled = 0
    let start = 0
    let scanned = 0
    let final = false
    /** The file offset of window[0] */
    let base = 0
    let index = 0
    while (true) {
      options.signal?.throwIfAborted()
      const length = cdc.cutPoint(window, start, filled, final, scanned)
      if (length > 0) {
        yield { index: index++, offset: base + start, bytes: window.subarray(start, start + length) }
        start += length
        scanned = start
        continue
      }
      if (final) return // nothing left: cutPoint gives 0 only for no bytes
      // a fresh window (the old one may live on in chunks) holding the rest
      const rest = filled - start
      const next = Buffer.allocUnsafe(windowBytes)
      window.copy(next, 0, start, filled)
      base += start
      scanned = filled - start
      window = next
      start = 0
      filled = rest
      while (filled < windowBytes) {
        options.signal?.throwIfAborted()
        const { bytesRead } = await handle.read(window, filled, windowBytes - filled, base + filled)
        if (bytesRead === 0) {
          final = true
          break
        }
        filled += bytesRead
      }
    }
  } finally {
    await handle.close()
  }
}
