/** GroupCommit: queues writes from every document and commits each group as one synced batch. */

/** A unit of work the writer turns into batch operations just before committing. */
export interface CommitJob<Op> {
  /** Produces this job's operations; may read the database (the writer runs one group at a time). */
  prepare(): Promise<Op[]> | Op[]
  /**
   * Commit this job in a group of its own. Its `prepare` then sees every earlier job's writes,
   * which a read-modify-write of values other jobs also write needs. Default false.
   */
  readonly alone?: boolean
}

interface Queued<Op> {
  readonly job: CommitJob<Op>
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

/**
 * Collects jobs and commits them in groups: while one group is being written (and synced), new
 * jobs wait and then all go in the next group together, so many writers share one fsync. Groups
 * commit strictly in order, so when a job resolves every earlier job has been written too. If a
 * group fails, every job in it rejects; later groups are still attempted.
 */
export class GroupCommit<Op> {
  readonly #write: (ops: Op[]) => Promise<void>
  #queue: Array<Queued<Op>> = []
  #running: Promise<void> | null = null
  #scheduled = false
  #groups = 0

  constructor(write: (ops: Op[]) => Promise<void>) {
    this.#write = write
  }

  /** Number of groups committed (or attempted) so far. */
  get groups(): number {
    return this.#groups
  }

  /** Queues a job; resolves once the group holding it is written. */
  submit(job: CommitJob<Op>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject })
      this.#schedule()
    })
  }

  /** Resolves once every job submitted so far has settled. */
  async idle(): Promise<void> {
    while (this.#running !== null || this.#queue.length > 0 || this.#scheduled) {
      await (this.#running ?? new Promise((resolve) => setImmediate(resolve)))
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#running !== null) return
    this.#scheduled = true
    // Let every writer of this event-loop turn join the group before it starts.
    setImmediate(() => {
      this.#scheduled = false
      this.#running = this.#run().finally(() => {
        this.#running = null
        if (this.#queue.length > 0) this.#schedule()
      })
    })
  }

  /** Takes the next group off the queue: everything up to the first job that must be alone. */
  #take(): Array<Queued<Op>> {
    if (this.#queue[0]?.job.alone === true) return this.#queue.splice(0, 1)
    const end = this.#queue.findIndex((queued) => queued.job.alone === true)
    return this.#queue.splice(0, end < 0 ? this.#queue.length : end)
  }

  async #run(): Promise<void> {
    const group = this.#take()
    this.#groups += 1
    try {
      const ops: Op[] = []
      for (const queued of group) {
        for (const op of await queued.job.prepare()) ops.push(op)
      }
      if (ops.length > 0) await this.#write(ops)
    } catch (error) {
      for (const queued of group) queued.reject(error)
      return
    }
    for (const queued of group) queued.resolve()
  }
}
