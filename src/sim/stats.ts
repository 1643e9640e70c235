/** Counters of what the simulator did: for the CLI's stats line and for tests. */
export interface SimStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Data pushes sent (garbage frames and duplicates not included). */
  pushes: number;
  garbageFrames: number;
  duplicates: number;
  /** Times the drop fault ran (each terminates every open connection). */
  drops: number;
  stalls: number;
  notices: number;
  /** Requests refused by a rate limit: REST 429s, upgrades refused, 60014 errors. */
  rateLimited: number;
  restRequests: number;
  /** Individual trades generated, all instruments. */
  trades: number;
}

export function emptyStats(): SimStats {
  return {
    connections: 0,
    connectionsTotal: 0,
    pushes: 0,
    garbageFrames: 0,
    duplicates: 0,
    drops: 0,
    stalls: 0,
    notices: 0,
    rateLimited: 0,
    restRequests: 0,
    trades: 0,
  };
}
