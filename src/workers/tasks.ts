/**
 * The work a blob worker does, as plain data that crosses a thread
 * boundary: what to do, and what came of it.
 */

/** A sealed blob of a file being restored: its bytes (a copy of the pack's) and what they open to. */
export interface SealedPiece {
  sealed: Uint8Array
  compressed: boolean
  plainLength: number
}

/**
 * Write one file of a restore whole: made under `tmp` (exclusively), its
 * blobs opened and written in order, owner, mode and time set, then renamed
 * to `path`. `existing` says what to do about something already at `path`:
 * nothing there to look for (`none`: its directory was made by this
 * restore), refuse (`refuse`), or replace it (`replace`).
 */
export interface RestoreFileTask {
  kind: 'restore-file'
  tmp: string
  path: string
  mode: number
  /** The file is made with `mode` (the umask leaves it whole): no chmod */
  exact: boolean
  /** Set as owner (root restoring another's file) */
  owner?: { uid: number, gid: number }
  /** mtime (and atime) in seconds */
  time: number
  existing: 'none' | 'refuse' | 'replace'
  pieces: SealedPiece[]
}

/**
 * Read one small file whole (in one call), name its content by its keyed
 * id, compress it where that makes it smaller and seal it: what a put
 * does for each small file before it packs the blob.
 */
export interface SealFileTask {
  kind: 'seal-file'
  path: string
  compression: 'auto' | 'off'
}

/** A sealed file: the bytes read, and their blob (none for an empty file). */
export interface SealedFile {
  read: number
  blob?: { id: Uint8Array, sealed: Uint8Array, plainLength: number, compressed: boolean }
}

export type BlobTask = RestoreFileTask | SealFileTask

/** An error as it crosses the thread boundary: what the main thread needs to rebuild it. */
export interface TaskError { name: string, message: string, code?: string }

export type TaskResult = { ok: true, value: number | SealedFile } | { ok: false, error: TaskError }
