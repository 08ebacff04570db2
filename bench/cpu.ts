// CPU time of a process, every thread, user + system, from /proc/<pid>/stat:
// with the bytes a case moved it gives CPU per MiB, and with the machine's
// cores the speed the CPU alone allows.
import { readFile } from 'node:fs/promises'

/** /proc reports clock ticks; USER_HZ is 100 on Linux */
const TICK_MS = 10

/** CPU milliseconds a running process has used so far, or undefined when it is gone. */
export async function cpuMs (pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime: fields 14 and 15 of the line
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return undefined
  }
}

/** CPU milliseconds per MiB moved */
export function perMiB (ms: number, bytes: number): number {
  return ms / (bytes / 2 ** 20)
}
