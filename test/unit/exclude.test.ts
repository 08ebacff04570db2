import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { badPattern, createExcluder } from '../../src/backup/exclude.js'

const FILE = false
const DIR = true

function excluded (patterns: string[], cases: Array<[string, boolean, boolean]>): void {
  const excluder = createExcluder(patterns)
  for (const [path, isDirectory, expected] of cases) {
    assert.equal(excluder.excludes(path, isDirectory), expected, `${JSON.stringify(patterns)} ${path}${isDirectory ? ' (dir)' : ''}`)
  }
}

describe('createExcluder', () => {
  it('excludes nothing without patterns', () => {
    excluded([], [['photos/a.tmp', FILE, false], ['node_modules', DIR, false]])
  })

  it('matches *.tmp at any depth', () => {
    excluded(['*.tmp'], [
      ['a.tmp', FILE, true],
      ['photos/2024/a.tmp', FILE, true],
      ['photos/x.tmp', DIR, true],
      ['photos/a.tmpl', FILE, false],
      ['photos/a.jpg', FILE, false],
      ['photos/A.TMP', FILE, false]
    ])
  })

  it('matches node_modules/ as a directory only, and so all below it', () => {
    excluded(['node_modules/'], [
      ['code/node_modules', DIR, true],
      ['code/node_modules/', DIR, true],
      ['node_modules', DIR, true],
      ['code/node_modules', FILE, false],
      ['code/node_modules/x/index.js', FILE, true]
    ])
  })

  it('anchors /photos/raw/** at the top and excludes everything below photos/raw', () => {
    excluded(['/photos/raw/**'], [
      ['photos/raw/a.cr2', FILE, true],
      ['photos/raw/2024', DIR, true],
      ['photos/raw/2024/deep/b.cr2', FILE, true],
      ['photos/raw', DIR, false],
      ['photos/rawer/a.cr2', FILE, false],
      ['backup/photos/raw/a.cr2', FILE, false],
      ['photos/a.jpg', FILE, false]
    ])
  })

  it('matches **/cache/ at any depth, the top included', () => {
    excluded(['**/cache/'], [
      ['cache', DIR, true],
      ['home/.app/cache', DIR, true],
      ['home/.app/cache/blob', FILE, true],
      ['home/.app/cache', FILE, false],
      ['home/.app/cached', DIR, false]
    ])
  })

  it('matches names with spaces and non-ASCII names', () => {
    excluded(['My Documents/', 'Überweisung *.pdf', '写真/'], [
      ['home/My Documents', DIR, true],
      ['home/My Documents/a.txt', FILE, true],
      ['home/My  Documents', DIR, false],
      ['bank/Überweisung März.pdf', FILE, true],
      ['bank/Uberweisung März.pdf', FILE, false],
      ['写真/猫.jpg', FILE, true],
      ['写真', DIR, true]
    ])
  })

  it('keeps what a later ! pattern names, as gitignore does', () => {
    excluded(['*.log', '!keep.log'], [['a/b.log', FILE, true], ['a/keep.log', FILE, false]])
    excluded(['photos/raw/*', '!photos/raw/keep.jpg'], [['photos/raw/a.jpg', FILE, true], ['photos/raw/keep.jpg', FILE, false]])
  })

  it('cannot bring back a path below an excluded directory', () => {
    excluded(['photos/raw/', '!photos/raw/keep.jpg'], [['photos/raw', DIR, true], ['photos/raw/keep.jpg', FILE, true]])
  })

  it('applies the last matching pattern', () => {
    excluded(['!a.log', '*.log'], [['a.log', FILE, true]])
  })

  it('reads an escaped # and a trailing escaped space literally', () => {
    excluded(['\\#notes', 'name\\ '], [['#notes', FILE, true], ['name ', FILE, true], ['name', FILE, false]])
  })

  it('answers the same past the matcher\'s renewal', () => {
    const excluder = createExcluder(['*.tmp', 'node_modules/'])
    for (let i = 0; i < 250_000; i++) {
      assert.equal(excluder.excludes(`d${i % 7}/f${i}.tmp`, FILE), true)
      assert.equal(excluder.excludes(`d${i % 7}/f${i}.txt`, FILE), false)
    }
  })

  it('refuses a pattern badPattern refuses', () => {
    assert.throws(() => createExcluder(['*.tmp', '']), RangeError)
  })
})

describe('badPattern', () => {
  it('accepts gitignore patterns', () => {
    for (const good of ['*.tmp', 'node_modules/', '/photos/raw/**', '**/cache/', '!keep.log', 'My Documents/', ' lead', '\\#x', 'a\\ ', '.git/', '.*', '写真/', '...']) {
      assert.equal(badPattern(good), undefined, JSON.stringify(good))
    }
  })

  it('says why it refuses what gitignore would read as nothing or otherwise', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/], ['   ', /empty/], ['a\nb', /one line/], ['a\r', /one line/], ['#x', /comment/],
      ['a ', /white space/], ['a\t', /white space/], ['a\\  ', /white space/],
      ['!', /matches nothing/], ['/', /matches nothing/], ['!/', /matches nothing/],
      ['./photos', /\.\. part|\. or \.\./], ['photos/../x', /\. or \.\./], ['..', /\. or \.\./], ['a/.', /\. or \.\./]
    ]
    for (const [bad, why] of cases) {
      assert.match(badPattern(bad) ?? 'accepted', why, JSON.stringify(bad))
    }
  })
})
