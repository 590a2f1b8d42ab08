/**
 * Finds what Flotilla left behind and removes it: objects labelled as
 * Flotilla's whose job the host no longer knows (orphans of a crashed host,
 * a lost database row), succeeded runs still lying around, and failed runs
 * past their retention time. Each removal is reported with its reason, and
 * one environment's failure does not stop the others.
 */

/** One object a runner created, as its environment lists it. */
export interface ManagedResource {
  /** Its name in the environment (Pod, workflow or container name). */
  readonly name: string;
  /** The job id it was created for, when the labels or annotations carry it. */
  readonly jobId?: string;
  readonly state: "running" | "succeeded" | "failed";
  /** When it finished, if it has. */
  readonly finishedAt?: Date;
}

/** An environment whose leftovers can be listed and removed. */
export interface CollectableEnvironment {
  readonly kind: string;
  /** Everything labelled as Flotilla's in this environment. */
  listManaged(): Promise<ManagedResource[]>;
  /** Removes one object; removing one already gone is not an error. */
  deleteManaged(name: string): Promise<void>;
}

/** Why an object was removed. */
export type CollectionReason = "orphaned" | "succeeded" | "failed-retention-expired";

/** One removal (or failed removal) the collector made. */
export interface CollectionRecord {
  readonly environment: string;
  readonly name: string;
  readonly reason: CollectionReason;
  /** Set when the removal failed; the next pass tries again. */
  readonly error?: string;
}

/** Options of the collector. */
export interface GarbageCollectorOptions {
  /** The environments to sweep, by configured name. */
  readonly environments: ReadonlyMap<string, CollectableEnvironment>;
  /** Whether the host still tracks this job. */
  readonly isJobKnown: (jobId: string) => boolean | Promise<boolean>;
  /** How long failed runs of known jobs are kept. Default 1 h. */
  readonly failedRetentionMs?: number;
  /** The clock; injectable for tests. */
  readonly now?: () => Date;
}

/** Sweeps environments for Flotilla objects that should no longer exist. */
export class GarbageCollector {
  readonly #options: GarbageCollectorOptions;

  #timer: NodeJS.Timeout | undefined;

  constructor(options: GarbageCollectorOptions) {
    this.#options = options;
  }

  /**
   * Sweeps every `intervalMs` until {@link stop}, handing each pass's records to `onPass`
   * (e.g. to log them). Passes never overlap; the timer does not keep the process alive.
   */
  start(intervalMs: number, onPass: (records: CollectionRecord[]) => void = () => {}): void {
    if (this.#timer) return;
    const pass = async (): Promise<void> => {
      onPass(await this.collect());
      if (this.#timer) this.#timer = setTimeout(() => void pass(), intervalMs).unref();
    };
    this.#timer = setTimeout(() => void pass(), intervalMs).unref();
  }

  /** Stops the sweeps {@link start} began; a pass in progress finishes. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One sweep over every environment; returns what it removed and what it could not. */
  async collect(): Promise<CollectionRecord[]> {
    const records: CollectionRecord[] = [];
    const now = (this.#options.now ?? (() => new Date()))().getTime();
    const retention = this.#options.failedRetentionMs ?? 3_600_000;
    for (const [environment, target] of this.#options.environments) {
      let resources: ManagedResource[];
      try {
        resources = await target.listManaged();
      } catch (error) {
        records.push({ environment, name: "*", reason: "orphaned", error: `listing failed: ${message(error)}` });
        continue;
      }
      for (const resource of resources) {
        const reason = await this.#verdict(resource, now, retention);
        if (!reason) continue;
        try {
          await target.deleteManaged(resource.name);
          records.push({ environment, name: resource.name, reason });
        } catch (error) {
          records.push({ environment, name: resource.name, reason, error: message(error) });
        }
      }
    }
    return records;
  }

  async #verdict(resource: ManagedResource, now: number, retention: number): Promise<CollectionReason | undefined> {
    if (resource.jobId === undefined || !(await this.#options.isJobKnown(resource.jobId))) return "orphaned";
    if (resource.state === "succeeded") return "succeeded";
    if (resource.state === "failed" && resource.finishedAt && now - resource.finishedAt.getTime() >= retention) {
      return "failed-retention-expired";
    }
    return undefined;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
