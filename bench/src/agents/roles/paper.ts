/** The paper record of workload 13: created by the writer before the replay, saved before it starts. */
import { deadline } from '../../clock.js'
import { createPaper } from '../../paper-record.js'
import { currentDoc } from './doc-session.js'
import type { Methods } from './methods.js'

/** Parameters of `paper.create`. */
export interface CreatePaperParams {
  /** Written as `createdBy` and owner: the subject of the writer's token. */
  readonly author: string
  readonly timeoutMs: number
}

export const paperMethods: Methods = {
  /** Creates the paper in the open document and resolves once the relay has `saved` it. */
  'paper.create': async (params) => {
    const { author, timeoutMs } = params as CreatePaperParams
    const bench = currentDoc()
    createPaper(bench.doc, author)
    await deadline(bench.whenConfirmed(), timeoutMs, 'paper.create: not saved')
    return null
  },
}
