/** Progress events are sent at most this often per piece of work. */
export const PROGRESS_INTERVAL_MS = 200

/** `emit`, at most once per `intervalMs` unless forced (the last event of a piece of work). */
export function throttled (emit: () => void, intervalMs = PROGRESS_INTERVAL_MS): (force?: boolean) => void {
  let last = 0
  return (force = false) => {
    const now = Date.now()
    if (!force && now - last < intervalMs) return
    last = now
    emit()
  }
}

/**
 * The progress events of backpack's long work, by name (as helia's
 * `ProgressEvent<'bitswap:want', …>`); the control API sends them to the
 * CLI, which draws its bar from them.
 */
export type BackpackProgressEvent =
  | { type: 'backpack:put:progress', files: number, dirs: number, new: number, changed: number, unchanged: number, size: number, bytes: number, added: number }
  | { type: 'backpack:get:progress', files: number, bytes: number, totalFiles?: number, totalBytes?: number }
  | { type: 'backpack:verify:progress', done: number, total: number }
  | { type: 'backpack:reclaim:progress', done: number, total: number }

export type ProgressFn = (event: BackpackProgressEvent) => void
