// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react'
import { createElement, version } from 'react'
import { version as domVersion } from 'react-dom'
import { afterEach, describe, expect, inject, it } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The React major a project runs @weft/react's tests on (packages/react/react-18 gives 18). */
    reactMajor?: number
  }
}

afterEach(cleanup)

describe('the React these tests run on', () => {
  it('is the one the project names, for the hooks, React DOM and the testing library alike', () => {
    const expected = inject('reactMajor') ?? 19
    expect(Number(version.split('.')[0])).toBe(expected)
    expect(domVersion).toBe(version)
    // The testing library renders with it (another React's hooks would fail every hook test).
    const { container } = render(createElement('p', null, `React ${version}`))
    expect(container.textContent).toBe(`React ${version}`)
  })
})
