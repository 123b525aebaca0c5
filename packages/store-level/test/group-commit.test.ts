import { describe, expect, it } from 'vitest'
import { GroupCommit } from '../src/group-commit.js'

describe('GroupCommit', () => {
  it('writes jobs submitted together in one group, in submission order', async () => {
    const writes: number[][] = []
    const commits = new GroupCommit<number>(async (ops) => {
      writes.push(ops)
    })
    await Promise.all([1, 2, 3].map((op) => commits.submit({ prepare: () => [op] })))
    expect(writes).toEqual([[1, 2, 3]])
  })

  it('rejects every job of a failed group and still writes later groups', async () => {
    let fail = true
    const written: number[] = []
    const commits = new GroupCommit<number>(async (ops) => {
      if (fail) throw new Error('disk full')
      written.push(...ops)
    })
    const failed = [1, 2].map((op) => commits.submit({ prepare: () => [op] }))
    await expect(Promise.all(failed)).rejects.toThrow('disk full')
    await expect(failed[1]).rejects.toThrow('disk full')
    fail = false
    await commits.submit({ prepare: () => [3] })
    expect(written).toEqual([3])
  })

  it('commits a job marked alone in a group of its own, after every earlier group', async () => {
    const writes: number[][] = []
    const commits = new GroupCommit<number>(async (ops) => {
      writes.push(ops)
    })
    const seen: number[][] = []
    await Promise.all([
      commits.submit({ prepare: () => [1] }),
      commits.submit({ prepare: () => [2] }),
      commits.submit({ alone: true, prepare: () => (seen.push(writes.flat()), [3]) }),
      commits.submit({ prepare: () => [4] }),
      commits.submit({ prepare: () => [5] }),
    ])
    expect(writes).toEqual([[1, 2], [3], [4, 5]])
    // Its prepare ran once the earlier jobs were written.
    expect(seen).toEqual([[1, 2]])
  })

  it('resolves idle() only after queued jobs settle', async () => {
    let release: () => void = () => {}
    const commits = new GroupCommit<number>(
      () => new Promise<void>((resolve) => (release = resolve)),
    )
    let settled = false
    void commits.submit({ prepare: () => [1] }).then(() => (settled = true))
    const idle = commits.idle()
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    release()
    await idle
    expect(settled).toBe(true)
  })
})
