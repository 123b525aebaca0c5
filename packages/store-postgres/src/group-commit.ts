/**
 * GroupCommit: queues the store's writes and runs each group of them in one PostgreSQL
 * transaction, so appends from every document (and every caller) of one moment share a COMMIT.
 */

/** A queued write. Jobs that cannot share a transaction (compaction, deletion…) are `alone`. */
export interface Job {
  readonly alone: boolean
  /** Bytes the job writes, to keep a group's transaction bounded. */
  readonly bytes: number
}

interface Queued<J extends Job> {
  readonly job: J
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

/** Bounds of one group. */
export interface GroupLimits {
  /** Most jobs per group. */
  readonly maxJobs: number
  /** A group stops taking jobs once they reach this many bytes (a bigger job goes alone). */
  readonly maxBytes: number
}

/**
 * Collects jobs and writes them in groups: while one group's transaction runs, new jobs wait,
 * then go together in the next. Groups run strictly in order, so when a job resolves every
 * earlier job has committed too. If a group fails, every job in it rejects; later groups are
 * still attempted.
 */
export class GroupCommit<J extends Job> {
  readonly #write: (jobs: readonly J[]) => Promise<void>
  readonly #limits: GroupLimits
  #queue: Array<Queued<J>> = []
  #running: Promise<void> | null = null
  #scheduled = false
  #groups = 0

  constructor(write: (jobs: readonly J[]) => Promise<void>, limits: GroupLimits) {
    this.#write = write
    this.#limits = limits
  }

  /** Number of groups written (or attempted) so far. */
  get groups(): number {
    return this.#groups
  }

  /** Queues a job; resolves once the transaction holding it has committed. */
  submit(job: J): Promise<void> {
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

  /** The next group: one `alone` job, or the jobs before the next one, within the limits. */
  #take(): Array<Queued<J>> {
    let end = 0
    let bytes = 0
    for (const { job } of this.#queue) {
      if (job.alone) break
      if (end > 0 && (end >= this.#limits.maxJobs || bytes + job.bytes > this.#limits.maxBytes))
        break
      bytes += job.bytes
      end += 1
    }
    return this.#queue.splice(0, Math.max(end, 1))
  }

  async #run(): Promise<void> {
    const group = this.#take()
    this.#groups += 1
    try {
      await this.#write(group.map((queued) => queued.job))
    } catch (error) {
      for (const queued of group) queued.reject(error)
      return
    }
    for (const queued of group) queued.resolve()
  }
}
