import { open, stat, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/** Does anything exist at this path? */
export async function pathExists (path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

/** Is there a directory at this path? */
export async function isDirectory (path: string): Promise<boolean> {
  return stat(path).then(s => s.isDirectory(), () => false)
}

/**
 * Writes started at once, without waiting for each other, and waited for
 * together: `all` when the writer needs every one of them done (it throws
 * the first error), `settled` before anything else may touch what they
 * write (it never throws). A failed write is not an unhandled rejection
 * while it waits.
 */
export class PendingWrites {
  private readonly writes: Array<Promise<unknown>> = []

  add (write: Promise<unknown>): void {
    write.catch(() => {})
    this.writes.push(write)
  }

  async all (): Promise<void> {
    await Promise.all(this.writes)
  }

  async settled (): Promise<void> {
    await Promise.allSettled(this.writes)
  }
}

/**
 * Write `bytes` at `position`, going on after a short write (a disk filling
 * up); how many bytes were written (all of them).
 */
export async function writeAll (handle: Pick<FileHandle, 'writev' | 'write'>, bytes: Uint8Array[], position: number): Promise<number> {
  const total = bytes.reduce((sum, b) => sum + b.byteLength, 0)
  let written = (await handle.writev(bytes, position)).bytesWritten
  if (written === total) return total
  const rest = Buffer.concat(bytes)
  while (written < total) {
    const { bytesWritten } = await handle.write(rest, written, total - written, position + written)
    if (bytesWritten === 0) throw new Error(`wrote ${written} of ${total} bytes`)
    written += bytesWritten
  }
  return total
}

/**
 * A new file written in pieces at their offsets, each write started at
 * once (`PendingWrites`); then either `finish` (every write done, synced if
 * asked, closed: it throws the first failure) or `discard` (the writes
 * settled, the file closed and removed; it never throws).
 */
export class PieceFile {
  private readonly writes = new PendingWrites()
  private closed = false

  private constructor (readonly path: string, private readonly handle: FileHandle) {}

  static async create (path: string, mode = 0o600): Promise<PieceFile> {
    return new PieceFile(path, await open(path, 'w', mode))
  }

  write (parts: Uint8Array[], position: number): void {
    this.writes.add(writeAll(this.handle, parts, position))
  }

  async finish (sync: boolean): Promise<void> {
    await this.writes.all()
    if (sync) await this.handle.datasync()
    this.closed = true
    await this.handle.close()
  }

  async discard (): Promise<void> {
    await this.writes.settled()
    if (!this.closed) {
      this.closed = true
      await this.handle.close().catch(() => {})
    }
    await unlink(this.path).catch(() => {})
  }
}
