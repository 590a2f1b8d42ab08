"""The runner of the Python example plugin: each job is a subprocess on this machine.

IaCProviderRunnerService as the contract's comments in proto/flotilla/plugin/v1/runner.proto
describe it: RunJob deduplicates on the idempotency key and refuses a bad spec with
INVALID_ARGUMENT naming the field; JobStatus reports the real exit code; JobLogs streams lines
with cursors, follows a running job until it ends and its output is drained, and stops when its
caller goes away; CancelJob ends a running job CANCELLED and leaves a finished one alone; an
unknown handle is NOT_FOUND everywhere.
"""

import os
import signal
import subprocess
import threading
import uuid

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

import flotilla.plugin.v1.job_pb2 as job_pb2
import flotilla.plugin.v1.registry_pb2 as registry_pb2
import flotilla.plugin.v1.runner_pb2 as runner_pb2
import flotilla.plugin.v1.runner_pb2_grpc as runner_pb2_grpc

PROVIDER = "python-example"

# How long a cancelled job gets between SIGTERM and SIGKILL.
KILL_GRACE_SECONDS = 2.0


def _now():
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


class InvalidSpec(Exception):
    """A JobSpec this runner cannot run; the message names the field and the fix."""


class Job:
    """One subprocess: its log lines (kept whole, so any cursor resumes), state and exit code."""

    def __init__(self, job_id, spec, env):
        self.job_id = job_id
        self.lines = []
        self.changed = threading.Condition()
        self.state = job_pb2.JOB_STATE_RUNNING
        self.exit_code = None
        self.reason = ""
        self.created_at = _now()
        self.finished_at = None
        self._cancel_reason = None
        self._readers_left = 2
        self.process = subprocess.Popen(
            list(spec.command) + list(spec.args),
            cwd=spec.working_dir or None,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own process group, so a cancel reaches whatever the job started.
            start_new_session=True,
        )
        for pipe, stream in (
            (self.process.stdout, job_pb2.LOG_STREAM_STDOUT),
            (self.process.stderr, job_pb2.LOG_STREAM_STDERR),
        ):
            threading.Thread(target=self._read, args=(pipe, stream), daemon=True).start()
        timeout = spec.timeout.ToMilliseconds() / 1000 if spec.HasField("timeout") else 0
        if timeout > 0:
            timer = threading.Timer(timeout, self.stop, args=(f"timed out after {timeout:g} s", False))
            timer.daemon = True
            timer.start()
        threading.Thread(target=self._wait, daemon=True).start()

    def _read(self, pipe, stream):
        for raw in iter(pipe.readline, b""):
            text = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", errors="replace")
            with self.changed:
                self.lines.append((stream, text, _now()))
                self.changed.notify_all()
        with self.changed:
            self._readers_left -= 1
            self.changed.notify_all()

    def _wait(self):
        code = self.process.wait()
        with self.changed:
            self.finished_at = _now()
            if self._cancel_reason is not None:
                self.state, self.reason = self._cancelled_state, self._cancel_reason
            elif code == 0:
                self.state = job_pb2.JOB_STATE_SUCCEEDED
            else:
                self.state = job_pb2.JOB_STATE_FAILED
                self.reason = f"exited with code {code}" if code > 0 else f"killed by signal {-code}"
            # A negative returncode is a signal, not an exit code: report none.
            self.exit_code = code if code >= 0 else None
            self.changed.notify_all()

    def finished(self):
        return self.state != job_pb2.JOB_STATE_RUNNING

    def drained(self):
        """Finished, and every line of its output read."""
        return self.finished() and self._readers_left == 0

    def stop(self, reason, cancelled=True):
        """SIGTERM to the job's group, SIGKILL after the grace period; a finished job stays as it is."""
        with self.changed:
            if self.finished() or self._cancel_reason is not None:
                return
            self._cancel_reason = reason
            self._cancelled_state = job_pb2.JOB_STATE_CANCELLED if cancelled else job_pb2.JOB_STATE_FAILED
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)

    def _signal(self, sig):
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def status(self, handle):
        with self.changed:
            status = job_pb2.JobStatus(handle=handle, state=self.state, reason=self.reason, created_at=self.created_at)
            status.started_at.CopyFrom(self.created_at)
            if self.exit_code is not None:
                status.exit_code = self.exit_code
            if self.finished_at is not None:
                status.finished_at.CopyFrom(self.finished_at)
            return status


class Runner(runner_pb2_grpc.IaCProviderRunnerServiceServicer):
    """IaCProviderRunnerService over subprocess jobs; `config_env` is the configured env, merged into every job's."""

    def __init__(self):
        self.jobs = {}
        self.by_key = {}
        self.lock = threading.Lock()
        self.config_env = {}

    def _find(self, handle, context):
        job = self.jobs.get(handle.job_id)
        if job is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"job {handle.job_id!r} is not known to the {PROVIDER} plugin")
        return job

    def _check(self, spec):
        if not spec.command:
            raise InvalidSpec('spec.command: empty; give the program to run, e.g. ["sh", "-c", "echo hi"]')
        if spec.HasField("timeout") and (spec.timeout.seconds < 0 or spec.timeout.nanos < 0):
            raise InvalidSpec("spec.timeout: negative; give a positive duration, or none for no limit")
        if spec.HasField("target"):
            raise InvalidSpec(
                f"spec.target: the {PROVIDER} plugin runs processes on its own machine and takes no target, "
                f"got target.{spec.target.WhichOneof('kind')}"
            )
        if spec.secret_env:
            raise InvalidSpec(f"spec.secret_env: the {PROVIDER} plugin resolves no secret references; leave it empty")

    def RunJob(self, request, context):
        spec = request.spec
        try:
            self._check(spec)
        except InvalidSpec as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        with self.lock:
            known = self.by_key.get(spec.idempotency_key) if spec.idempotency_key else None
            if known is not None:
                return runner_pb2.RunJobResponse(handle=self._handle(known), deduplicated=True)
            job_id = str(uuid.uuid4())
            env = {**os.environ, **self.config_env, **spec.env}
            try:
                self.jobs[job_id] = Job(job_id, spec, env)
            except OSError as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"spec.command: cannot start {spec.command[0]!r}: {error}")
            if spec.idempotency_key:
                self.by_key[spec.idempotency_key] = job_id
        return runner_pb2.RunJobResponse(handle=self._handle(job_id))

    def _handle(self, job_id):
        return job_pb2.JobHandle(provider=PROVIDER, job_id=job_id)

    def JobStatus(self, request, context):
        return runner_pb2.JobStatusResponse(status=self._find(request.handle, context).status(request.handle))

    def BatchJobStatus(self, request, context):
        results = []
        for handle in request.handles:
            job = self.jobs.get(handle.job_id)
            if job is None:
                error = runner_pb2.JobError(code="NOT_FOUND", message=f"job {handle.job_id!r} is not known")
                results.append(runner_pb2.JobStatusResult(handle=handle, error=error))
            else:
                results.append(runner_pb2.JobStatusResult(handle=handle, status=job.status(handle)))
        return runner_pb2.BatchJobStatusResponse(results=results)

    def JobLogs(self, request, context):
        job = self._find(request.handle, context)
        # A line's cursor is the number of lines up to and including it.
        try:
            sent = int(request.cursor or "0")
        except ValueError:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"cursor {request.cursor!r} is not one this plugin issued")
        while context.is_active():
            with job.changed:
                lines = job.lines[sent:]
                done = job.drained()
                if not lines and not done and request.follow:
                    # Wake up now and then to notice a caller that went away.
                    job.changed.wait(0.5)
                    continue
            if lines:
                yield runner_pb2.JobLogsResponse(
                    lines=[
                        job_pb2.LogLine(stream=stream, text=text, time=at, cursor=str(sent + i + 1))
                        for i, (stream, text, at) in enumerate(lines)
                    ]
                )
                sent += len(lines)
            if not request.follow or (done and sent == len(job.lines)):
                return
        # The caller cancelled or its deadline passed: gRPC has already ended the call with that status.

    def CancelJob(self, request, context):
        job = self._find(request.handle, context)
        job.stop(request.reason or "cancelled")
        return runner_pb2.CancelJobResponse(status=job.status(request.handle))

    def stop_all(self, reason):
        """Stops every running job (the plugin is shutting down)."""
        threads = [threading.Thread(target=job.stop, args=(reason,)) for job in list(self.jobs.values())]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def conformance_jobs():
    """The jobs `flotilla plugin test` runs here (any POSIX machine has sh and sleep), for the registry."""
    return registry_pb2.ConformanceJobs(
        quick=job_pb2.JobSpec(name="conformance-quick", command=["sh", "-c", "echo one; echo two; echo three"]),
        long_running=job_pb2.JobSpec(
            name="conformance-long",
            command=["sh", "-c", "echo started; sleep 600"],
            timeout=duration_pb2.Duration(seconds=600),
        ),
    )
