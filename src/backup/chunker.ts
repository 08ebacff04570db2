import { readFile } from 'node:fs/promises'
import { readPieces } from '../chunking/index.js'
import { readCdcChunks } from '../chunking/fastcdc.js'

export interface ChunkingInit {
  /** `cdc`: content-defined (FastCDC); `fixed`: pieces of `size` bytes */
  method: 'cdc' | 'fixed'
  minSize: number
  avgSize: number
  maxSize: number
  /** Piece size of `fixed` */
  size: number
}

/**
 * A file's content as blobs: a file no larger than the smallest chunk is
 * read whole in one call (most files of a tree are that small); a larger
 * one is cut by the configured chunker, read piece by piece.
 */
export async function * fileBlobs (path: string, size: number, chunking: ChunkingInit, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (size <= Math.min(chunking.minSize, chunking.size)) {
    const bytes = await readFile(path, { signal })
    if (bytes.byteLength > 0) yield bytes
    return
  }
  if (chunking.method === 'cdc') {
    // windows of the largest chunk: the reader holds two, not two of 16 MiB
    for await (const chunk of readCdcChunks(path, chunking, { signal, windowBytes: chunking.maxSize })) yield chunk.bytes
    return
  }
  for await (const piece of readPieces(path, chunking.size, { signal })) yield piece.bytes
}
