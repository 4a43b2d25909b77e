// What a balloon's user chooses (options) and reads back (statistics), VIRTIO 1.2 §5.5.

export interface BalloonOptions {
  /** poison_val written when PAGE_POISON is negotiated (default 0: free pages read as zero). */
  readonly poison?: number;
  /** When the target cannot be reached (no free page), try again after this long. Default 1000 ms. */
  readonly retryMs?: number;
  /** Free page reporting: smallest run of free pages reported (default 256 = 1 MiB). */
  readonly reportMinPages?: number;
  /** Free page reporting: at most one report per this many ms (default 10 000). */
  readonly reportIntervalMs?: number;
  /** Runs per report (one descriptor each; default 16). */
  readonly reportRuns?: number;
}

export interface BalloonStats {
  /** num_pages: what the device asks for (4 KiB pages). */
  readonly targetPages: number;
  /** Pages the balloon holds, as last written to `actual`. */
  readonly actualPages: number;
  /** Pages named in the inflate or deflate request now out. */
  readonly inflightPages: number;
  /** Target pages the pool could not give (no free page). */
  readonly shortfallPages: number;
  readonly inflateRequests: number;
  readonly deflateRequests: number;
  /** Pages handed back on an allocation that found the pool empty (DEFLATE_ON_OOM). */
  readonly oomPages: number;
  /** Times the device asked for statistics (used the statsq buffer). */
  readonly statsRequests: number;
  readonly reports: number;
  readonly reportedPages: number;
  readonly configChanges: number;
}
