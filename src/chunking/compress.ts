import zstd from '@bokuweb/zstd-wasm'
import { BackpackError } from '../errors.js'

/**
 * zstd compiled to WebAssembly (@bokuweb/zstd-wasm, pinned exactly): it
 * installs from the registry alone on any platform, and its one-shot
 * decompression writes into a buffer of the size asked for, so a hostile
 * frame cannot make it allocate more (the native addons read to the end
 * into a growing buffer). Loaded once, when this module is imported.
 */
await zstd.init()

/**
 * One compression and one decompression context for this thread, used
 * for every call: the one-shot calls make and free a context each time,
 * which cost more than compressing a small file. With no dictionary the
 * output is the one-shot call's, byte for byte.
 */
const cctx = zstd.createCCtx()
const dctx = zstd.createDCtx()
const NO_DICTIONARY = new Uint8Array(0)

export type CompressionMode = 'auto' | 'off'

/**
 * zstd level used; fixed so the same blob always compresses the same (the
 * sealed bytes, and so the chunk CIDs, follow from them). Level 1: level 3
 * was measured a quarter slower on 8 MiB of text and half as fast on 4 KiB
 * blobs, for 12-15 % fewer bytes on large text and 2 % on 4 KiB ones.
 */
export const COMPRESSION_LEVEL = 1

/**
 * Blobs smaller than this are kept as they are: a frame adds 9 bytes, and
 * 16-64 bytes of text were measured to come out larger, while a call costs
 * tens of microseconds.
 */
export const MIN_COMPRESS_BYTES = 64

/**
 * Largest blob compressed or decompressed (bytes): the WebAssembly heap is
 * at most 2 GiB and holds input and output together, and a failed
 * allocation there is not reported. Blobs are at most 8 MiB.
 */
export const MAX_BLOB_BYTES = 512 * 1024 * 1024

/** zstd frame magic number, little-endian (RFC 8878 3.1.1). */
const ZSTD_MAGIC = 0xFD2FB528

/** Bytes that do not decompress to the expected blob. */
export class DecompressError extends BackpackError {
  static override name = 'DecompressError'
  override name = 'DecompressError'
}

/**
 * A blob larger than this is compressed only when its first
 * COMPRESSION_SAMPLE_BYTES compress: media and archives (most large files)
 * do not, and trying all of a 2 MiB blob of them cost 4 ms of CPU per MiB
 * (measured, a 256 MiB put of random data). The sample is part of the
 * content, so the same blob is always treated the same.
 */
export const COMPRESSION_SAMPLE_BYTES = 64 * 1024
/** The sample must shrink below this share of its size for the blob to be compressed */
const SAMPLE_RATIO = 0.95

/** Compress `plain` when mode is 'auto' and that makes it smaller; else return it as it is. */
export function compressBlob (plain: Uint8Array, mode: CompressionMode): { bytes: Uint8Array, compressed: boolean } {
  if (mode === 'off' || plain.byteLength < MIN_COMPRESS_BYTES || plain.byteLength > MAX_BLOB_BYTES) {
    return { bytes: plain, compressed: false }
  }
  if (plain.byteLength > 2 * COMPRESSION_SAMPLE_BYTES) {
    const sample = zstd.compressUsingDict(cctx, plain.subarray(0, COMPRESSION_SAMPLE_BYTES), NO_DICTIONARY, COMPRESSION_LEVEL)
    if (sample.byteLength >= COMPRESSION_SAMPLE_BYTES * SAMPLE_RATIO) return { bytes: plain, compressed: false }
  }
  const packed = zstd.compressUsingDict(cctx, plain, NO_DICTIONARY, COMPRESSION_LEVEL)
  if (packed.byteLength >= plain.byteLength) return { bytes: plain, compressed: false }
  return { bytes: packed, compressed: true }
}

/**
 * Undo compressBlob: `plainLength` is the expected size; throws
 * DecompressError when the bytes do not decompress to exactly plainLength
 * bytes. The frame must declare plainLength as its content size (one-shot
 * compression always does) before anything is allocated, and decompression
 * then writes into a buffer of that size and fails on more.
 */
export function decompressBlob (bytes: Uint8Array, plainLength: number): Uint8Array {
  if (!Number.isSafeInteger(plainLength) || plainLength < 0 || plainLength > MAX_BLOB_BYTES) {
    throw new DecompressError(`cannot decompress to ${plainLength} bytes`)
  }
  const declared = frameContentSize(bytes)
  if (declared !== BigInt(plainLength)) {
    throw new DecompressError(`compressed blob declares ${declared ?? 'no'} bytes, expected ${plainLength}`)
  }
  let plain: Uint8Array
  try {
    plain = zstd.decompressUsingDict(dctx, bytes, NO_DICTIONARY)
  } catch (err) {
    throw new DecompressError(`compressed blob does not decompress: ${(err as Error).message}`)
  }
  if (plain.byteLength !== plainLength) {
    throw new DecompressError(`compressed blob decompresses to ${plain.byteLength} bytes, expected ${plainLength}`)
  }
  return plain
}

/**
 * The content size a zstd frame header declares (RFC 8878 3.1.1.1), or
 * undefined when `bytes` does not start with a frame header that has one.
 */
function frameContentSize (bytes: Uint8Array): bigint | undefined {
  if (bytes.byteLength < 5) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint32(0, true) !== ZSTD_MAGIC) return undefined
  const descriptor = bytes[4]
  const sizeFlag = descriptor >> 6
  const singleSegment = (descriptor & 0x20) !== 0
  if ((descriptor & 0x08) !== 0) return undefined // reserved bit
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 0x03]
  const fieldBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][sizeFlag]
  if (fieldBytes === 0 || at + fieldBytes > bytes.byteLength) return undefined
  switch (fieldBytes) {
    case 1: return BigInt(view.getUint8(at))
    case 2: return BigInt(view.getUint16(at, true) + 256)
    case 4: return BigInt(view.getUint32(at, true))
    default: return view.getBigUint64(at, true)
  }
}
