import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseDuration, formatDuration, durationSchema, DURATION_EXPECTED } from '../../src/util/duration.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

describe('parseDuration', () => {
  it('reads the contract examples', () => {
    assert.equal(parseDuration('90s'), 90 * SECOND)
    assert.equal(parseDuration('15min'), 15 * MINUTE)
    assert.equal(parseDuration('36h'), 36 * HOUR)
    assert.equal(parseDuration('7d'), 7 * DAY)
    assert.equal(parseDuration('2w'), 14 * DAY)
    assert.equal(parseDuration('6mo'), 180 * DAY)
    assert.equal(parseDuration('1y'), 365 * DAY)
  })

  it('takes a month as 30 days and a year as 365', () => {
    assert.equal(parseDuration('1mo'), 30 * DAY)
    assert.equal(parseDuration('12mo'), 360 * DAY)
    assert.equal(parseDuration('2y'), 730 * DAY)
  })

  it('reads zero and leading zeros (refusing 0 is the caller\'s business)', () => {
    assert.equal(parseDuration('0s'), 0)
    assert.equal(parseDuration('0y'), 0)
    assert.equal(parseDuration('07d'), 7 * DAY)
  })

  it('refuses a bare m as ambiguous', () => {
    assert.equal(parseDuration('5m'), undefined)
    assert.equal(parseDuration('m'), undefined)
  })

  it('refuses what is not a whole count with a known lower-case unit', () => {
    for (const bad of ['', '90', 's', 'h1', '1.5h', '.5h', '-1h', '+1h', '1e3s', '1,000s', '1 h', ' 1h', '1h ',
      '1H', '1Min', '1ms', '1sec', '1hr', '1hour', '1day', '1d2h', '1h30min', '0x10s', '１h', 'toString', '1toString', '1__proto__']) {
      assert.equal(parseDuration(bad), undefined, JSON.stringify(bad))
    }
  })

  it('refuses durations beyond a safe integer of milliseconds', () => {
    assert.equal(parseDuration('9999999999999y'), undefined)
    assert.equal(parseDuration('99999999999999999999s'), undefined)
  })
})

describe('formatDuration', () => {
  it('prints the largest exact unit of d, h, min, s', () => {
    assert.equal(formatDuration(HOUR), '1h')
    assert.equal(formatDuration(90 * SECOND), '90s')
    assert.equal(formatDuration(2 * DAY), '2d')
    assert.equal(formatDuration(36 * HOUR), '36h')
    assert.equal(formatDuration(15 * MINUTE), '15min')
    assert.equal(formatDuration(0), '0s')
  })

  it('prints weeks, months and years as days', () => {
    assert.equal(formatDuration(parseDuration('2w') as number), '14d')
    assert.equal(formatDuration(parseDuration('6mo') as number), '180d')
    assert.equal(formatDuration(parseDuration('1y') as number), '365d')
  })

  it('prints what is no whole second in milliseconds', () => {
    assert.equal(formatDuration(1500), '1500ms')
    assert.equal(formatDuration(1), '1ms')
  })

  it('round-trips with parseDuration', () => {
    for (const text of ['90s', '15min', '36h', '7d', '1h', '0s']) {
      assert.equal(formatDuration(parseDuration(text) as number), text)
    }
  })

  it('refuses what is no duration', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => formatDuration(bad), RangeError, String(bad))
    }
  })
})

describe('durationSchema', () => {
  it('parses a duration string to milliseconds', () => {
    assert.equal(durationSchema.parse('1h'), HOUR)
    assert.equal(durationSchema.parse('0s'), 0)
  })

  it('says what is allowed when the value is no duration', () => {
    for (const bad of ['5m', '1.5h', '', 3600, null, ['1h']]) {
      const result = durationSchema.safeParse(bad)
      assert.equal(result.success, false, JSON.stringify(bad))
      assert.equal(result.error?.issues[0].message, DURATION_EXPECTED, JSON.stringify(bad))
    }
    assert.equal(DURATION_EXPECTED, 'expected a duration: a number with a unit (90s, 15min, 36h, 7d, 2w, 6mo, 1y)')
  })
})
