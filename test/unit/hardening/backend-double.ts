/**
 * A test double of {@link QueueBackend} that records every call and runs nothing: tests that
 * must prove "nothing was submitted" pass it as the `backend` option and read `submissions`.
 */
import type { JobSpec, JobState, QueueBackend, SubmittedJob } from "../../../src/backends/queue-backend.js";

/** Records submissions (and other calls); every job it is given stays queued. */
export class RecordingBackendDouble implements QueueBackend {
  readonly kind = "recording-double";
  /** Every JobSpec passed to `submit`, in order. */
  readonly submissions: JobSpec[] = [];
  /** Names of every method called. */
  readonly calls: string[] = [];

  submit(jobs: readonly JobSpec[]): Promise<SubmittedJob[]> {
    this.calls.push("submit");
    this.submissions.push(...jobs);
    return Promise.resolve(jobs.map((j, i) => ({ jobName: j.jobName, backendJobId: `double-${this.submissions.length - jobs.length + i}` })));
  }
  poll(ids: readonly string[]): Promise<Map<string, JobState>> {
    this.calls.push("poll");
    return Promise.resolve(new Map(ids.map((id) => [id, { status: "queued" } as JobState])));
  }
  onUpdate(): () => void {
    this.calls.push("onUpdate");
    return () => undefined;
  }
  cancel(): Promise<void> {
    this.calls.push("cancel");
    return Promise.resolve();
  }
  logs(): Promise<string> {
    this.calls.push("logs");
    return Promise.resolve("");
  }
  collect(): Promise<void> {
    this.calls.push("collect");
    return Promise.resolve();
  }
  adopt(): Promise<JobState> {
    this.calls.push("adopt");
    return Promise.resolve({ status: "queued" } as JobState);
  }
  close(): Promise<void> {
    this.calls.push("close");
    return Promise.resolve();
  }
}
