// host-local's store, as an interface with a disk implementation and an in-memory one (like the
// reference's backend/store.go, backend/disk and backend/testing/fake_store.go).

/** Where host-local keeps its reservations for one network. All methods run under `withLock`. */
export interface Store {
  /** Runs `fn` holding the store's lock (flock on `<dir>/lock`, shared with the reference plugin). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Reserves `ip` for (id, ifname) in range set `rangeIndex`; false if the IP is taken. Also records it as last reserved. */
  reserve(id: string, ifname: string, ip: string, rangeIndex: number): Promise<boolean>;
  /** The last IP reserved in range set `rangeIndex`, if any. */
  lastReservedIP(rangeIndex: number): Promise<string | undefined>;
  /** Every reserved IP with its owner. */
  list(): Promise<{ ip: string; id: string; ifname: string }[]>;
  /** Releases whatever (id, ifname) holds; nothing held is fine. Returns the IPs released. */
  releaseByOwner(id: string, ifname: string): Promise<string[]>;
  /** The IPs held by (id, ifname). */
  getByOwner(id: string, ifname: string): Promise<string[]>;
}
