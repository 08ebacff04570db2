import { resolveRepoDir } from '../../repo/paths.js'
import { repoOption } from '../program.js'
import type { Command } from 'commander'

async function readStdin (): Promise<string> {
  if (process.stdin.isTTY === true) {
    process.stderr.write('recovery phrase: ')
  }
  const parts: Buffer[] = []
  for await (const part of process.stdin) parts.push(part)
  return Buffer.concat(parts).toString('utf8')
}

export function registerRepoCommands (program: Command): void {
  program.command('init')
    .description('create the repo: a new identity and its 24-word recovery phrase')
    .addOption(repoOption())
    .option('--swarm-key <file>', 'join only the private network of peers sharing this key')
    .option('--recover', 'rebuild the identity from a recovery phrase read from stdin or $BACKPACK_RECOVERY_PHRASE')
    .action(async (opts: { repo?: string, swarmKey?: string, recover?: boolean }) => {
      const repo = resolveRepoDir(opts.repo)
      let phrase: string | undefined
      if (opts.recover === true) {
        phrase = process.env.BACKPACK_RECOVERY_PHRASE ?? await readStdin()
      }
      // loaded here, not at start: the other commands need none of its crypto
      const { initRepo } = await import('../../repo/index.js')
      const words = await initRepo(repo, { phrase, swarmKeyFile: opts.swarmKey })
      if (opts.recover !== true) {
        process.stdout.write(`recovery phrase: ${words}\n`)
        process.stderr.write('write the recovery phrase down: it is shown once, and it is the only way to restore your backups without this repo\n')
      }
      process.stdout.write(`initialized repo ${repo}\n`)
    })

  program.command('swarm-key')
    .description('print a new swarm key (for init --swarm-key)')
    .addOption(repoOption())
    .action(async () => {
      const { generateKey } = await import('@libp2p/pnet')
      const key = new Uint8Array(95)
      generateKey(key)
      process.stdout.write(Buffer.from(key).toString('utf8').trimEnd() + '\n')
    })
}
