// The interface's side of DHCP (the exchange itself is dhcp.ts): runs the client, applies
// the lease it brings, renews it at T1 (RFC 2131 §4.4.5: here by a whole new exchange, the
// address kept meanwhile), retries a failed renewal while the lease lasts and then drops
// the address and starts over; and answers whenConfigured() waiters.

import type { TimerId } from "../../platform/platform.js";
import type { DhcpClient, DhcpLease } from "./dhcp.js";
import { NoRouteError, SocketClosedError } from "./errors.js";
import type { IpStats, StackEnv } from "./stack-types.js";

/** What the keeper needs of its interface. */
export interface LeaseHost {
  readonly env: StackEnv;
  readonly stats: IpStats;
  readonly closed: boolean;
  readonly configured: boolean;
  /** The lease's address, mask and router become the interface's. */
  configure(address: number, netmask: number, gateway: number): void;
  /** The lease ran out: the interface has no address any more. */
  unconfigure(): void;
  emit(error: Error): void;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: TimerId;
}

export class LeaseKeeper {
  readonly #host: LeaseHost;
  readonly #dhcp: DhcpClient;
  #error: Error | null = null;
  #leaseTimer: TimerId | null = null;
  /** When the lease ends (clock ms); Infinity for an infinite lease. */
  #leaseEnds = Infinity;
  #waiters: Waiter[] = [];

  constructor(host: LeaseHost, dhcp: DhcpClient) {
    this.#host = host;
    this.#dhcp = dhcp;
  }

  /** The last DHCP failure (null once a run starts again). */
  get error(): Error | null {
    return this.#error;
  }

  /** Runs the client; the lease it brings is applied and its renewal scheduled. */
  run(): Promise<DhcpLease> {
    const dhcp = this.#dhcp;
    const host = this.#host;
    this.#error = null;
    const run = dhcp.run();
    run.then(
      (lease) => {
        if (host.closed) return;
        host.configure(lease.address, lease.netmask, lease.gateway);
        for (const w of this.#waiters) {
          host.env.timers.clear(w.timer);
          w.resolve();
        }
        this.#waiters = [];
        this.#scheduleRenewal(lease);
      },
      (error: Error) => {
        if (host.closed || dhcp.state === "selecting" || dhcp.state === "requesting") return; // restarted or closed
        this.#error = error;
        host.emit(error);
        this.#rejectAll(error);
        if (host.configured) this.#renewalFailed();
      },
    );
    return run;
  }

  /** Resolves once the interface has an address; rejects after `timeoutMs`. */
  whenConfigured(timeoutMs: number): Promise<void> {
    const host = this.#host;
    if (host.configured) return Promise.resolve();
    if (host.closed) return Promise.reject(new SocketClosedError("IP stack"));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: host.env.timers.set(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(this.#error ?? new NoRouteError("the network", `no address after ${timeoutMs} ms (DHCP ${this.#dhcp.state})`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Stops the client and the renewal timer; waiters hear SocketClosedError. */
  close(): void {
    this.#dhcp.stop();
    if (this.#leaseTimer !== null) this.#host.env.timers.clear(this.#leaseTimer);
    this.#leaseTimer = null;
    this.#rejectAll(new SocketClosedError("IP stack"));
  }

  #rejectAll(error: Error): void {
    for (const w of this.#waiters) {
      this.#host.env.timers.clear(w.timer);
      w.reject(error);
    }
    this.#waiters = [];
  }

  /** RFC 2131 §4.4.5: renew at T1 (half the lease). */
  #scheduleRenewal(lease: DhcpLease): void {
    if (lease.leaseSeconds === 0xffff_ffff) {
      this.#leaseEnds = Infinity;
      return;
    }
    const ms = Math.max(1, lease.leaseSeconds) * 1000;
    this.#leaseEnds = this.#host.env.clock.now() + ms;
    this.#renewIn(ms / 2);
  }

  #renewIn(delay: number): void {
    const timers = this.#host.env.timers;
    if (this.#leaseTimer !== null) timers.clear(this.#leaseTimer);
    this.#leaseTimer = timers.set(() => {
      this.#leaseTimer = null;
      this.#host.stats.dhcpRenewals++;
      void this.run().catch(() => {}); // failures are handled in run()
    }, delay);
  }

  /** A renewal got no answer: try again while the lease lasts; once it is over, drop the
   * address and start from DISCOVER. */
  #renewalFailed(): void {
    const left = this.#leaseEnds - this.#host.env.clock.now();
    if (left > 1000) {
      this.#renewIn(Math.min(60_000, left / 2));
      return;
    }
    this.#host.unconfigure();
    this.#renewIn(0);
  }
}
