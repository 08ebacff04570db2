// Peak resident memory of processes, from the kernel's high-water mark
// (VmHWM in /proc/<pid>/status). Writing 5 to /proc/<pid>/clear_refs resets
// the mark to the current RSS, so one long-lived daemon yields a peak per
// phase. For a short-lived child, `/usr/bin/time -f %M` reports ru_maxrss.
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'

export const TIME_BIN = '/usr/bin/time'

/** The peak RSS of a running process in bytes, or undefined when it is gone. */
export async function peakRss (pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]
    return kib == null ? undefined : Number(kib) * 1024
  } catch {
    return undefined
  }
}

/** Reset the high-water mark to the current RSS; false when not allowed. */
export async function resetPeakRss (pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/**
 * Polls a child's VmHWM while it runs and keeps the last value read: the
 * fallback for a short-lived child when /usr/bin/time is missing (it may
 * miss growth in the last interval before exit).
 */
export class PeakRssWatcher {
  private peak = 0
  private readonly timer: NodeJS.Timeout

  constructor (pid: number, intervalMs = 50) {
    this.timer = setInterval(() => {
      peakRss(pid).then(v => { if (v != null && v > this.peak) this.peak = v }, () => {})
    }, intervalMs)
  }

  stop (): number {
    clearInterval(this.timer)
    return this.peak
  }
}

export function hasTimeBin (): boolean {
  return existsSync(TIME_BIN)
}
