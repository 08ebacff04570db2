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
