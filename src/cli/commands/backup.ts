import { Option } from 'commander'
import { ApiClient } from '../../api/client.js'
import { badName } from '../../backup/walk.js'
import { resolveRepoDir } from '../../repo/paths.js'
import { formatSize } from '../../util/size.js'
import { EXIT_DEGRADED, ExitCode, UsageError } from '../errors.js'
import { withProgress } from '../progress.js'
import { repoOption } from '../program.js'
import type { Command } from 'commander'
import { resolve } from 'node:path'

function parseReplicas (text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`invalid --replicas ${JSON.stringify(text)}: expected a whole number from 1 to 64`)
  return n
}

export function registerBackupCommands (program: Command): void {
  program.command('put')
    .description('back up files; a directory backs up every file below it')
    .argument('<path...>', 'files or directories')
    .addOption(repoOption())
    .addOption(new Option('--replicas <n>', 'copies on distinct peers').conflicts('priority'))
    .addOption(new Option('--priority <level>', 'high (3 replicas) or low (2)').choices(['high', 'low']))
    .option('--name <name>', 'back up under this name')
    .option('--json', 'print JSON')
    .action(async (paths: string[], opts: { repo?: string, replicas?: string, priority?: 'high' | 'low', name?: string, json?: boolean }) => {
      const replicas = opts.replicas != null ? parseReplicas(opts.replicas) : undefined
      const bad = opts.name != null ? badName(opts.name) : undefined
      if (bad != null) throw new UsageError(`invalid --name ${JSON.stringify(opts.name)}: ${bad}`)
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const results = await withProgress<any[]>(client, 'put', {
        paths: paths.map(p => resolve(p)),
        replicas,
        priority: opts.priority,
        name: opts.name
      }, opts.json)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(results.map(({ degraded, changed, ...r }) => r)) + '\n')
      } else {
        for (const r of results) process.stdout.write(`${r.id} ${r.name}\n`)
      }
      for (const r of results) if (r.changed != null) process.stderr.write(`warning: ${r.changed}\n`)
      const degraded = results.filter(r => r.degraded != null)
      if (degraded.length > 0) {
        for (const r of degraded) process.stderr.write(`degraded: ${r.degraded}\n`)
        throw new ExitCode(EXIT_DEGRADED)
      }
    })

  program.command('get')
    .description('restore a backup by id or name (NAME/ restores every name below it)')
    .argument('<ref>', 'backup id or name')
    .addOption(repoOption())
    .option('-o, --output <path>', 'where to write it (default ./NAME)')
    .option('--force', 'overwrite an existing file')
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
      for (const r of Array.isArray(result) ? result : [result]) {
        process.stdout.write(`${r.id} ${r.name} -> ${r.path}\n`)
      }
    })

  program.command('ls')
    .description('this node\'s backups, newest first')
    .argument('[name]', 'only this name\'s versions')
    .addOption(repoOption())
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: { repo?: string, json?: boolean }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const entries = await client.call<any[]>('ls', { name })
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(entries) + '\n')
        return
      }
      for (const e of entries) {
        process.stdout.write(`${e.id}  ${e.created}  ${formatSize(e.size).padStart(10)}  ${e.replicas.actual}/${e.replicas.desired}  ${e.name}\n`)
      }
    })
}
