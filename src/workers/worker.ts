/**
 * A blob worker (runs in a worker thread of `BlobWorkers`): the per-file
 * work of a put or a restore done with blocking calls off the main thread,
 * so the thread that speaks to the network is not also the one that reads,
 * compresses, seals, opens and writes ten thousand small files.
 */
import { closeSync, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { workerData } from 'node:worker_threads'
import { DataCipher } from '../chunking/cipher.js'
import { FileExistsError } from '../errors.js'
import { openBlob, sealBlob } from '../backup/blobs.js'
import type { BlobTask, RestoreFileTask, SealFileTask, SealedFile, TaskResult } from './tasks.js'

export interface WorkerData { dataSecret: Uint8Array }

const cipher = new DataCipher((workerData as WorkerData).dataSecret)

/** Run a batch of tasks, each on its own: one failing does not stop the others. */
export default function run (tasks: BlobTask[]): TaskResult[] {
  return tasks.map(task => {
    try {
      return { ok: true, value: task.kind === 'seal-file' ? sealFile(task) : restoreFile(task) }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      return { ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: e?.code } }
    }
  })
}

function sealFile (task: SealFileTask): SealedFile {
  const plain = readFileSync(task.path)
  if (plain.byteLength === 0) return { read: 0 }
  const id = cipher.blobId(plain)
  const blob = sealBlob(cipher, id, plain, task.compression)
  return { read: plain.byteLength, blob: { id, sealed: Buffer.concat(blob.parts), plainLength: blob.plainLength, compressed: blob.compressed } }
}

function restoreFile (task: RestoreFileTask): number {
  const fd = openSync(task.tmp, 'wx', task.exact ? task.mode : 0o600)
  let open = true
  try {
    let position = 0
    for (const piece of task.pieces) {
      const plain = openBlob(cipher, piece.sealed, { offset: 0, length: piece.sealed.byteLength, plainLength: piece.plainLength, compressed: piece.compressed })
      writeAllSync(fd, plain, position)
      position += plain.byteLength
    }
    if (task.owner != null) {
      try { fchownSync(fd, task.owner.uid, task.owner.gid) } catch {}
    }
    if (!task.exact) fchmodSync(fd, task.mode)
    futimesSync(fd, task.time, task.time)
    open = false
    closeSync(fd)
    if (task.existing !== 'none') {
      const st = lstatSync(task.path, { throwIfNoEntry: false })
      if (st != null) {
        if (task.existing === 'refuse') throw new FileExistsError(`${task.path} exists: pass --force to overwrite it`)
        if (st.isDirectory()) rmSync(task.path, { recursive: true, force: true })
      }
    }
    renameSync(task.tmp, task.path)
    return position
  } catch (err) {
    if (open) try { closeSync(fd) } catch {}
    try { unlinkSync(task.tmp) } catch {}
    throw err
  }
}

/** Write all of `bytes` at `position`, going on after a short write (a disk filling up). */
function writeAllSync (fd: number, bytes: Uint8Array, position: number): void {
  let written = 0
  while (written < bytes.byteLength) {
    const n = writeSync(fd, bytes, written, bytes.byteLength - written, position + written)
    if (n === 0) throw new Error(`wrote ${written} of ${bytes.byteLength} bytes`)
    written += n
  }
}
