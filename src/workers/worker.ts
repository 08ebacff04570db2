/**
 * A blob worker (runs in a worker thread of `BlobWorkers`): the per-file
 * work of a put or a restore done with blocking calls off the main thread,
 * so the thread that speaks to the network is not also the one that reads,
 * compresses, seals, opens and writes ten thousand small files.
 */
import { closeSync, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { workerData } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { DataCipher } from '../chunking/cipher.js'
import { FileExistsError } from '../errors.js'
import { openBlob, sealBlob } from '../backup/blobs.js'
import type { BlobTask, RestoreFileTask, SealFileTask, SealedFile, TaskResult } from './tasks.js'

export interface WorkerData { dataSecret: Uint8Array }

const cipher = new DataCipher((workerData as WorkerData).dataSecret)

/**
 * A worker collects its garbage after this many bytes of buffers made:
 * its heap is tiny, so V8 would wait for 64 MiB of dead buffers outside it
 * before collecting, and the allocator keeps the memory they took
 * (measured: the daemon's RSS grew 80 MiB with the workers, not with
 * their number). A collection of this heap takes a millisecond or two.
 */
const COLLECT_AFTER_BYTES = 8 * 1024 * 1024
setFlagsFromString('--expose-gc')
const collect = runInNewContext('gc') as () => void
let madeSinceCollect = 0

/**
 * Run a batch of tasks, each on its own: one failing does not stop the
 * others. The sealed blobs made are moved to the main thread, not copied.
 */
export default function run (tasks: BlobTask[]): unknown {
  const moved: ArrayBuffer[] = []
  const results = tasks.map((task): TaskResult => {
    try {
      if (task.kind === 'restore-file') return { ok: true, value: restoreFile(task) }
      const sealed = sealFile(task)
      if (sealed.blob != null) moved.push(sealed.blob.sealed.buffer as ArrayBuffer)
      return { ok: true, value: sealed }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      return { ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: e?.code } }
    }
  })
  const transferable = { [Piscina.transferableSymbol]: moved, [Piscina.valueSymbol]: results }
  if (madeSinceCollect >= COLLECT_AFTER_BYTES) {
    madeSinceCollect = 0
    collect()
  }
  return Piscina.move(transferable as unknown as Parameters<typeof Piscina.move>[0])
}

function sealFile (task: SealFileTask): SealedFile {
  const plain = readFileSync(task.path)
  madeSinceCollect += 4 * plain.byteLength
  if (plain.byteLength === 0) return { read: 0 }
  const id = cipher.blobId(plain)
  const blob = sealBlob(cipher, id, plain, task.compression)
  // a buffer of its own (not a slice of a shared pool): it is moved to the main thread
  const sealed = new Uint8Array(blob.length)
  let at = 0
  for (const part of blob.parts) {
    sealed.set(part, at)
    at += part.byteLength
  }
  return { read: plain.byteLength, blob: { id, sealed, plainLength: blob.plainLength, compressed: blob.compressed } }
}

function restoreFile (task: RestoreFileTask): number {
  for (const piece of task.pieces) madeSinceCollect += 2 * piece.plainLength
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
