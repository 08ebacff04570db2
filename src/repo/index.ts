import { randomBytes, hkdfSync } from 'node:crypto'
import { mkdir, readFile, writeFile, rename, open, unlink } from 'node:fs/promises'
import { repoPaths } from './paths.js'
import { generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import type { PrivateKey } from '@libp2p/interface'
import { pathExists } from '../util/fs.js'
import { InvalidInputError, RepoExistsError, RepoLockedError, RepoNotFoundError } from '../errors.js'

export { repoPaths, resolveRepoDir } from './paths.js'
export type { RepoPaths } from './paths.js'

/** Key material of a node, derived from its recovery phrase. */
export interface RepoKeys {
  privateKey: PrivateKey
  /** 32 bytes from which the data encryption keys derive */
  dataSecret: Uint8Array
}

const PHRASE_STRENGTH_BITS = 256 // 24 words

function derive (seed: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', seed, new Uint8Array(0), info, 32))
}

/** Normalize a phrase typed by a person: case and white space do not matter. */
export function normalizePhrase (phrase: string): string {
  return phrase.trim().toLowerCase().split(/\s+/).join(' ')
}

export async function keysFromPhrase (phrase: string): Promise<RepoKeys> {
  const words = normalizePhrase(phrase)
  if (!validateMnemonic(words, wordlist) || words.split(' ').length !== 24) {
    throw new InvalidInputError('invalid recovery phrase: expected the 24 words printed by \'backpack init\'')
  }
  const seed = mnemonicToSeedSync(words)
  const privateKey = await generateKeyPairFromSeed('Ed25519', derive(seed, 'backpack/identity/v1'))
  return { privateKey, dataSecret: derive(seed, 'backpack/data/v1') }
}

export function newPhrase (): string {
  return generateMnemonic(wordlist, PHRASE_STRENGTH_BITS)
}

/** Write a file so that a crash leaves either the old or the new content. */
export async function writeFileAtomic (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`
  await writeFile(tmp, data, { mode })
  await rename(tmp, path)
}

export async function repoExists (root: string): Promise<boolean> {
  return pathExists(repoPaths(root).keys)
}

export interface InitOptions {
  /** Rebuild from this phrase instead of making a new one */
  phrase?: string
  /** A swarm key file to copy into the repo */
  swarmKeyFile?: string
}

/**
 * Create a repo. Returns the recovery phrase (new or given).
 */
export async function initRepo (root: string, options: InitOptions = {}): Promise<string> {
  const paths = repoPaths(root)
  if (await pathExists(paths.keys)) {
    throw new RepoExistsError(`a repo already exists at ${root}`)
  }
  const phrase = options.phrase != null ? normalizePhrase(options.phrase) : newPhrase()
  const keys = await keysFromPhrase(phrase)
  let swarmKey: Uint8Array | undefined
  if (options.swarmKeyFile != null) {
    swarmKey = await readSwarmKeyFile(options.swarmKeyFile)
  }
  await mkdir(root, { recursive: true, mode: 0o700 })
  await mkdir(paths.chunks, { recursive: true })
  if (!(await pathExists(paths.config))) {
    await writeFileAtomic(paths.config, '{}\n', 0o644)
  }
  if (swarmKey != null) {
    await writeFileAtomic(paths.swarmKey, swarmKey)
  }
  if (options.phrase != null) {
    // the node rebuilds its catalog from the network once started
    await writeFileAtomic(paths.recovering, '')
  }
  await writeFileAtomic(paths.keys, JSON.stringify({
    identity: Buffer.from(privateKeyToProtobuf(keys.privateKey)).toString('base64'),
    data: Buffer.from(keys.dataSecret).toString('base64')
  }, null, 2) + '\n')
  return phrase
}

export async function loadKeys (root: string): Promise<RepoKeys> {
  const paths = repoPaths(root)
  let text: string
  try {
    text = await readFile(paths.keys, 'utf8')
  } catch {
    throw new RepoNotFoundError(`no repo at ${root}: create one with 'backpack init'`)
  }
  const json = JSON.parse(text)
  return {
    privateKey: privateKeyFromProtobuf(Buffer.from(json.identity, 'base64')),
    dataSecret: new Uint8Array(Buffer.from(json.data, 'base64'))
  }
}

/** Validate a swarm key file (the `/key/swarm/psk/1.0.0/` format). */
export async function readSwarmKeyFile (path: string): Promise<Uint8Array> {
  let data: Buffer
  try {
    data = await readFile(path)
  } catch (err: any) {
    throw new InvalidInputError(`cannot read swarm key ${path}: ${err.code ?? err.message}`)
  }
  const lines = data.toString('utf8').trim().split(/\r?\n/)
  if (lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-f]{64}$/i.test(lines[2] ?? '')) {
    throw new InvalidInputError(`invalid swarm key ${path}: expected the output of 'backpack swarm-key'`)
  }
  return new Uint8Array(data)
}

export async function loadSwarmKey (root: string): Promise<Uint8Array | undefined> {
  const path = repoPaths(root).swarmKey
  if (!(await pathExists(path))) return undefined
  return readSwarmKeyFile(path)
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}

/**
 * Take the repo's lock: a file holding the pid of the running node. A lock
 * left by a dead process (kill -9) is taken over.
 */
export async function lockRepo (root: string): Promise<() => Promise<void>> {
  const path = repoPaths(root).lock
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return async () => { await unlink(path).catch(() => {}) }
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw err
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new RepoLockedError(`a node is already running for repo ${root} (pid ${pid}): stop it with 'backpack stop --repo ${root}'`)
      }
      await unlink(path).catch(() => {})
    }
  }
  throw new RepoLockedError(`cannot lock repo ${root}`)
}

