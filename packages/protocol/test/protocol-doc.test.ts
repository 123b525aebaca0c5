import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, MESSAGE_SPECS, type MessageType } from '../src/index.js'
import { fixtures } from './golden-fixtures.js'

// PROTOCOL.md documents the wire format for people; these tests keep it equal to the code.
const markdown = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8')
const lines = markdown.split('\n')
const messageTypes = Object.keys(MESSAGE_SPECS) as MessageType[]

const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim())

/** The body rows of the first markdown table whose header cells are `header`. */
const tableRows = (text: string[], header: readonly string[]): string[][] => {
  const start = text.findIndex(
    (line) => line.trim().startsWith('|') && cellsOf(line).join('|') === header.join('|'),
  )
  if (start === -1) throw new Error(`no table with header ${header.join(' | ')}`)
  const rows: string[][] = []
  // start + 1 is the |---| separator line.
  for (const line of text.slice(start + 2)) {
    if (!line.trim().startsWith('|')) break
    rows.push(cellsOf(line))
  }
  return rows
}

/** The lines of the `###` section whose heading is `` `type` (tag N) ``. */
const messageSection = (type: MessageType): string[] => {
  const heading = `### \`${type}\` (tag ${MESSAGE_SPECS[type].tag})`
  const start = lines.indexOf(heading)
  if (start === -1) throw new Error(`PROTOCOL.md has no heading "${heading}"`)
  const end = lines.findIndex((line, index) => index > start && /^#{2,3} /.test(line))
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

describe('PROTOCOL.md error table', () => {
  it('lists exactly the rows of ERROR_CODES, in order', () => {
    const rows = tableRows(lines, ['Code', 'Close code', 'HTTP', 'Retry', 'Scope', 'Advice'])
    const expected = Object.entries(ERROR_CODES).map(([code, info]) => [
      `\`${code}\``,
      info.closeCode === 0 ? '—' : String(info.closeCode),
      String(info.httpStatus),
      info.retry,
      info.scope,
      info.advice,
    ])
    expect(rows).toEqual(expected)
  })
})

describe('PROTOCOL.md field kinds', () => {
  it('lists every field kind the messages use, once', () => {
    const rows = tableRows(lines, ['Kind', 'lib0 encoding', 'Wire form'])
    const used = new Set(
      messageTypes.flatMap((type) => MESSAGE_SPECS[type].fields.map(([, kind]) => `\`${kind}\``)),
    )
    const listed = rows.map(([kind]) => kind)
    expect(new Set(listed).size).toBe(listed.length)
    expect(new Set(listed)).toEqual(used)
  })
})

describe('PROTOCOL.md messages', () => {
  it('lists every message with its tag and fields in the overview table', () => {
    const rows = tableRows(lines, ['Tag', 'Type', 'Direction', 'Fields (in wire order)'])
    expect(rows.map(([tag, type, , fields]) => [tag, type, fields])).toEqual(
      messageTypes.map((type) => [
        String(MESSAGE_SPECS[type].tag),
        `\`${type}\``,
        MESSAGE_SPECS[type].fields.map(([name]) => name).join(', '),
      ]),
    )
  })

  it.each(messageTypes)('documents the fields of %s in wire order with their kinds', (type) => {
    const rows = tableRows(messageSection(type), ['Field', 'Kind', 'Meaning'])
    expect(rows.map(([field, kind]) => [field, kind])).toEqual(
      MESSAGE_SPECS[type].fields.map(([name, kind]) => [`\`${String(name)}\``, `\`${kind}\``]),
    )
  })

  it.each(messageTypes)('gives %s a hex example that is its golden fixture', (type) => {
    const section = messageSection(type).join('\n')
    const examples = [...section.matchAll(/Example \(fixture `([^`]+)`\):\s*`([0-9a-f]+)`/g)]
    expect(examples.length).toBeGreaterThan(0)
    for (const [, name, hex] of examples) {
      const fixture = fixtures.find((candidate) => candidate.name === name)
      expect(fixture?.message.type, `fixture ${name}`).toBe(type)
      expect(hex).toBe(fixture?.hex)
    }
  })

  it.each(messageTypes)('annotates exactly the bytes of the %s example', (type) => {
    // The first column of the ```text block after an example is the frame, a few bytes a line.
    const section = messageSection(type)
    const exampleLine = section.findIndex((line) => line.startsWith('Example (fixture'))
    const blockStart = section.indexOf('```text', exampleLine)
    const blockEnd = section.indexOf('```', blockStart + 1)
    const annotated = section
      .slice(blockStart + 1, blockEnd)
      .map((line) => /^((?:[0-9a-f]{2} )*[0-9a-f]{2})(?: {2,}|$)/.exec(line)?.[1] ?? '')
      .join('')
      .replaceAll(' ', '')
    const example = /`([0-9a-f]+)`/.exec(section.slice(exampleLine).join('\n'))?.[1]
    expect(annotated).toBe(example)
  })
})
