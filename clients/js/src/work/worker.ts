// A worker: takes items from a dispatcher's queues with a credit, runs a handler on each while
// keeping its lease extended, answers ACK, NACK or REJECT, and drains on request
// (docs/work-queue.md, "Workers"; docs/protocol.md, section 12).
import type { Fields } from "../codec/envelopes.js";
import { DeliverFlag, Kind } from "../codec/kinds.js";
import { decodeBody, encodeBody } from "../codec/msgpack.js";
import { ConnectionLostError, errorForCode, TimeoutError, type HubwireError } from "../errors.js";
import { Job } from "./job.js";
import { WorkLink, type WorkConnectOptions } from "./link.js";
import type { ItemId } from "./producer.js";

/** The shortest interval between two PROGRESS frames for one lease, as the Rust worker. */
const MIN_PROGRESS_EVERY_MS = 10;

export interface WorkerOptions extends WorkConnectOptions {
  /** The queues to take items from. */
  queues: string[];
  /** How many items it holds (and runs) at once (1), like RabbitMQ's prefetch. */
  credit?: number;
  /** A first STATUS (any MessagePack value, by convention a map such as `{weight: 2}`). */
  status?: unknown;
  /** Called with what the dispatcher says about this worker: ERROR 404 for a lease it no
   * longer holds (the item may be with another worker), unreadable frames. */
  onError?: (error: HubwireError) => void;
}

/** The handler: resolve to ack (unless it called job.nack or job.reject); a throw nacks the
 * item at once with the error's message. */
export type JobHandler = (job: Job) => unknown | Promise<unknown>;

export class Worker {
  /** The credit the dispatcher granted (the asked-for one, or its `max_credit` if lower). */
  credit = 0;
  /** The dispatcher's last STATUS, decoded (`{dispatcher, queues: {name: waiting}}`). */
  dispatcherStatus: unknown = null;
  private link!: WorkLink;
  private handler: JobHandler | null = null;
  private readonly held = new Map<ItemId, Job>();
  private readonly waitingJobs: Job[] = [];
  private draining = false;
  private finished = false;
  private settleRun: { resolve(): void; reject(error: unknown): void } | null = null;
  private takeAnswer: { resolve(credit: number): void; reject(error: unknown): void } | null = null;
  private lostError: HubwireError | null = null;
  private settleStopped!: () => void;
  /** Settles once the worker has stopped: drained, closed or lost. */
  private readonly stopped = new Promise<void>((resolve) => (this.settleStopped = resolve));

  private constructor(private readonly options: WorkerOptions) {}

  /** @internal: use `connectWorker()`. */
  static async open(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker(options);
    worker.link = await WorkLink.open(options, "hubwire-js-worker/0.1.0", {
      frame: (kind, fields) => worker.onFrame(kind, fields),
      unreadable: (error) => worker.options.onError?.(error),
      closed: (reason) => worker.onClosed(reason),
    });
    if (options.status !== undefined) worker.setStatus(options.status);
    const timeout = options.timeout ?? 5000;
    const taken = new Promise<number>((resolve, reject) => (worker.takeAnswer = { resolve, reject }));
    worker.link.send(Kind.TAKE, { queues: options.queues, credit: options.credit ?? 1 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      worker.credit = await Promise.race([
        taken,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`no TAKEN within ${timeout} ms`)), timeout);
        }),
      ]);
    } catch (error) {
      worker.link.close("TAKE refused");
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return worker;
  }

  /** Items held now (running, or delivered before run()). */
  get inFlight(): number {
    return this.held.size;
  }

  /** Runs `handler` on every item delivered, up to the credit at once. Resolves after
   * drain(); rejects with ConnectionLostError when the dispatcher goes away (what the worker
   * held will be delivered again, to this or another worker). */
  run(handler: JobHandler): Promise<void> {
    if (this.handler) return Promise.reject(new Error("run() was called already"));
    this.handler = handler;
    const done = new Promise<void>((resolve, reject) => (this.settleRun = { resolve, reject }));
    if (this.lostError) this.settleRun!.reject(this.lostError);
    for (const job of this.waitingJobs.splice(0)) void this.start(job);
    this.maybeFinish();
    return done;
  }

  /** Sends a STATUS (any MessagePack value) the dispatcher's policy and figures see. */
  setStatus(status: unknown): boolean {
    return this.link.send(Kind.WORK_STATUS, { body: encodeBody(status) });
  }

  /** Takes nothing new (TAKE with credit 0), lets the items held finish and be answered,
   * then says DISCONN: run() resolves. Resolves when that is done. */
  async drain(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.link.send(Kind.TAKE, { queues: this.options.queues, credit: 0 });
      this.maybeFinish();
    }
    if (!this.handler) this.finish();
    await this.stopped;
  }

  /** Closes at once: what it holds is given back by the dispatcher to other workers. */
  close(): void {
    this.link.close("worker closing");
  }

  private onFrame(kind: number, fields: Fields): void {
    switch (kind) {
      case Kind.TAKEN:
        this.credit = fields.credit;
        this.takeAnswer?.resolve(fields.credit);
        this.takeAnswer = null;
        return;
      case Kind.WORK_STATUS:
        try {
          this.dispatcherStatus = decodeBody(fields.body);
        } catch {
          this.dispatcherStatus = fields.body;
        }
        return;
      case Kind.DELIVER: {
        const job = new Job(
          fields.queue,
          fields.id,
          fields.delivery,
          fields.lease,
          (fields.flags & DeliverFlag.BROADCAST) !== 0,
          fields.body,
          Math.max(MIN_PROGRESS_EVERY_MS, Math.floor(Number(fields.visibility_ms) / 3)),
          (lease, extendMs) => this.link.send(Kind.PROGRESS, { lease, extend_ms: extendMs }),
        );
        this.held.set(job.lease, job);
        if (this.handler) void this.start(job);
        else this.waitingJobs.push(job);
        return;
      }
      case Kind.ERROR: {
        const error = errorForCode(fields.code, fields.message);
        if (this.takeAnswer) {
          this.takeAnswer.reject(error);
          this.takeAnswer = null;
        } else this.options.onError?.(error);
        return;
      }
      default:
        return;
    }
  }

  private async start(job: Job): Promise<void> {
    const progress = setInterval(() => job.progress(0), job.progressEvery);
    try {
      await this.handler!(job);
      job.ack();
    } catch (error) {
      job.nack(`the handler failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearInterval(progress);
    }
    this.answer(job);
  }

  private answer(job: Job): void {
    this.held.delete(job.lease);
    const outcome = job.outcome!;
    if (outcome.type === "ack") this.link.send(Kind.ACK, { lease: job.lease });
    else if (outcome.type === "nack") this.link.send(Kind.NACK, { lease: job.lease, delay_ms: outcome.delayMs, reason: outcome.reason });
    else this.link.send(Kind.REJECT, { lease: job.lease, reason: outcome.reason });
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.draining && this.held.size === 0 && this.handler) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.link.close("worker drained");
    this.settleRun?.resolve();
    this.settleStopped();
  }

  private onClosed(reason: string): void {
    const error = new ConnectionLostError(reason);
    this.takeAnswer?.reject(error);
    this.takeAnswer = null;
    this.settleStopped();
    if (this.finished) return;
    this.lostError = error;
    this.settleRun?.reject(error);
  }
}
