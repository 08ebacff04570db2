import { resolve } from 'node:path'
import { Option } from 'commander'
import { ApiClient } from '../../api/client.js'
import { badPattern } from '../../backup/exclude.js'
import { badName } from '../../backup/walk.js'
import { resolveRepoDir } from '../../repo/paths.js'
import { formatSize } from '../../util/size.js'
import { EXIT_DEGRADED, ExitCode, UsageError } from '../errors.js'
import { withProgress } from '../progress.js'
import { repoOption } from '../program.js'
import type { Command } from 'commander'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

function parseReplicas (text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`invalid --replicas ${JSON.stringify(text)}: expected a whole number from 1 to 64`)
  return n
}

/** A name or path as one line: control characters (a newline in a name) shown escaped. */
export function printable (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f\\]/g, c => c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

export function registerBackupCommands (program: Command): void {
  program.command('put')
    .description('back up files and directories as one snapshot')
    .argument('<path...>', 'files or directories')
    .addOption(repoOption())
    .addOption(new Option('--replicas <n>', 'copies on distinct peers').conflicts('priority'))
    .addOption(new Option('--priority <level>', 'high (3 replicas) or low (2)').choices(['high', 'low']))
    .option('--name <name>', 'store the path under this name (one path only)')
    .option('--exclude <pattern>', 'leave out paths matching this gitignore-style pattern (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (paths: string[], opts: { repo?: string, replicas?: string, priority?: 'high' | 'low', name?: string, exclude?: string[], json?: boolean }) => {
      const replicas = opts.replicas != null ? parseReplicas(opts.replicas) : undefined
      if (opts.name != null) {
        const bad = badName(opts.name)
        if (bad != null) throw new UsageError(`invalid --name ${JSON.stringify(opts.name)}: ${bad}`)
        if (paths.length > 1) throw new UsageError('--name takes a single path')
      }
      for (const pattern of opts.exclude ?? []) {
        const bad = badPattern(pattern)
        if (bad != null) throw new UsageError(`invalid --exclude ${JSON.stringify(pattern)}: ${bad}`)
      }
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const r = await withProgress<any>(client, 'put', {
        paths: paths.map(p => resolve(p)),
        replicas,
        priority: opts.priority,
        name: opts.name,
        exclude: opts.exclude
      }, opts.json)
      for (const line of r.warnings ?? []) process.stderr.write(`warning: ${printable(line)}\n`)
      if (opts.json === true) {
        const { degraded, warnings, ...result } = r
        process.stdout.write(JSON.stringify(result) + '\n')
      } else {
        process.stdout.write(`snapshot ${r.id}\n`)
        process.stdout.write(`files: ${r.new} new, ${r.changed} changed, ${r.unchanged} unchanged; ${formatSize(r.size)} in the snapshot, ${formatSize(r.added)} added to the network\n`)
      }
      if (r.degraded != null) {
        process.stderr.write(`degraded: ${r.degraded}\n`)
        throw new ExitCode(EXIT_DEGRADED)
      }
    })

  program.command('get')
    .description('restore a snapshot, or a file or directory in it (SNAP[:PATH], or PATH in the newest snapshot holding it)')
    .argument('<what>', 'SNAP[:PATH] or PATH; SNAP is latest, an id or a prefix of 8 or more characters')
    .addOption(repoOption())
    .option('-o, --output <path>', 'where to restore (default: the current directory)')
    .option('--force', 'overwrite what exists')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { repo?: string, output?: string, force?: boolean, json?: boolean }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const result = await withProgress<any>(client, 'get', {
        ref,
        // a trailing slash says "into this directory", even one not made yet
        output: opts.output != null ? resolve(opts.output) + (opts.output.endsWith('/') ? '/' : '') : undefined,
        cwd: process.cwd(),
        force: opts.force === true
      }, opts.json)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(result) + '\n')
        return
      }
      process.stdout.write(`restored ${result.files} files (${formatSize(result.size)}) of snapshot ${result.id} to ${printable(result.path)}\n`)
    })

  program.command('ls')
    .description('every snapshot, newest first; with SNAP[:PATH], what it holds below PATH')
    .argument('[what]', 'SNAP[:PATH] or PATH')
    .addOption(repoOption())
    .option('--json', 'print JSON')
    .action(async (ref: string | undefined, opts: { repo?: string, json?: boolean }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      if (ref == null) {
        const snapshots = await client.call<any[]>('ls', {})
        if (opts.json === true) {
          process.stdout.write(JSON.stringify(snapshots) + '\n')
          return
        }
        for (const s of snapshots) {
          process.stdout.write(`${s.id}  ${s.created}  ${String(s.files).padStart(7)} files  ${formatSize(s.size).padStart(10)}  ${s.replicas.actual}/${s.replicas.desired}  ${s.sources.map(printable).join(' ')}\n`)
        }
        return
      }
      // a listing comes an item at a time: printed as it arrives, never held whole
      let first = true
      if (opts.json === true) process.stdout.write('[')
      await client.call('ls', { ref }, {
        onItem: (item: any) => {
          if (opts.json === true) {
            process.stdout.write((first ? '' : ',') + JSON.stringify(item))
          } else {
            process.stdout.write(`${typeChar(item.type)}${modeText(item.mode)} ${String(item.size).padStart(12)} ${item.mtime}  ${printable(item.path)}\n`)
          }
          first = false
        }
      })
      if (opts.json === true) process.stdout.write(']\n')
    })
}

function typeChar (type: string): string {
  return type === 'dir' ? 'd' : type === 'symlink' ? 'l' : '-'
}

/** Permission bits as ls shows them. */
function modeText (mode: number): string {
  const bits = 'rwxrwxrwx'
  let out = ''
  for (let i = 0; i < 9; i++) out += (mode & (1 << (8 - i))) !== 0 ? bits[i] : '-'
  return out
}
