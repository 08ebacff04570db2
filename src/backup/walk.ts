import { lstat, readdir } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { InvalidInputError } from '../errors.js'

export interface FileToBackUp {
  path: string
  name: string
}

/**
 * The files a `put` of these paths backs up. A file is named by its base
 * name (or `name`); files below a directory by their path relative to the
 * directory's parent (`photos/2024/a.jpg`), with `name` replacing the
 * directory's own name. Symbolic links are not followed.
 */
export async function listFiles (paths: string[], name?: string): Promise<FileToBackUp[]> {
  const out: FileToBackUp[] = []
  for (const given of paths) {
    const path = resolve(given)
    let info
    try {
      info = await lstat(path)
    } catch (err: any) {
      throw new InvalidInputError(`cannot read ${given}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.code}`)
    }
    if (info.isFile()) {
      out.push({ path, name: name ?? basename(path) })
    } else if (info.isDirectory()) {
      const root = dirname(path)
      for (const file of await walk(path)) {
        let rel = relative(root, file).split(sep).join('/')
        if (name != null) rel = name + rel.slice(basename(path).length)
        out.push({ path: file, name: rel })
      }
    } else {
      throw new InvalidInputError(`cannot back up ${given}: not a regular file or directory`)
    }
  }
  return out
}

async function walk (dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err: any) {
    throw new InvalidInputError(`cannot read directory ${dir}: ${err.code}`)
  }
  const out: string[] = []
  for (const name of names.sort()) {
    const path = join(dir, name)
    const info = await lstat(path)
    if (info.isDirectory()) out.push(...await walk(path))
    else if (info.isFile()) out.push(path)
  }
  return out
}

/**
 * Why `name` cannot name a backup (given with `--name`), or undefined when it
 * can: a relative path that `get` restores below its directory as it is.
 */
export function badName (name: string): string | undefined {
  if (name === '') return 'a name cannot be empty'
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'a name has no control characters'
  if (name.startsWith('/')) return 'a name is a relative path'
  if (name.endsWith('/')) return 'a name cannot end in / (in get, NAME/ means every name below NAME)'
  if (name.split('/').some(part => part === '' || part === '.' || part === '..')) return 'a name has no empty, . or .. parts'
  return undefined
}

/** A backup name as a relative path below `dir`; refuses names that would escape it. */
export function safeJoin (dir: string, name: string): string {
  const parts = name.split('/').filter(p => p !== '' && p !== '.')
  if (parts.length === 0 || parts.includes('..')) {
    throw new InvalidInputError(`refusing to restore ${JSON.stringify(name)}: not a relative path`)
  }
  return join(dir, ...parts)
}
