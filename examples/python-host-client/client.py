"""A client of a running `flotilla serve`, in Python: the host API (proto/flotilla/host/v1) through the
stubs buf generates, and grpcio. It lists the host's providers, runs a job, streams the job's log as it
is written, and reads the job's exit code; then prints one JSON report (which the test reads).

    python client.py ADDRESS 'COMMAND ...'

ADDRESS is what `flotilla serve` printed (127.0.0.1:7070, or unix:/path/host.sock); the bearer token
comes from FLOTILLA_SERVE_TOKEN, as the server's does. The token travels as call credentials only:
it is never printed.
"""

import json
import os
import sys

import grpc

from flotilla.host.v1 import host_pb2, host_pb2_grpc
from flotilla.plugin.v1 import job_pb2


def main() -> int:
    address, command = sys.argv[1], sys.argv[2]
    token = os.environ.get("FLOTILLA_SERVE_TOKEN", "")
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    # A plaintext channel, as the server was started without TLS (h2c); see docs/cli.md for TLS and mTLS.
    # On a Unix socket grpcio sends the socket's path as the HTTP/2 :authority, which Node's HTTP/2 server
    # (nghttp2) refuses as malformed and closes the stream: name the authority "localhost" instead, as
    # grpc-go does for Unix sockets.
    options = [("grpc.default_authority", "localhost")] if address.startswith("unix:") else []
    with grpc.insecure_channel(address, options=options) as channel:
        host = host_pb2_grpc.HostServiceStub(channel)
        providers = host.ListProviders(host_pb2.ListProvidersRequest(), metadata=metadata, timeout=30)

        started = host.RunJob(
            host_pb2.RunJobRequest(spec=job_pb2.JobSpec(name="python-client", command=["sh", "-c", command])),
            metadata=metadata,
            timeout=60,
        )
        lines = []
        # follow=True: the stream ends once the job has finished and its whole log was sent.
        for batch in host.StreamJobLogs(
            host_pb2.StreamJobLogsRequest(handle=started.handle, follow=True), metadata=metadata, timeout=300
        ):
            for line in batch.lines:
                lines.append({"stream": job_pb2.LogStream.Name(line.stream), "text": line.text})
                print(line.text, file=sys.stderr)

        status = host.GetJobStatus(host_pb2.GetJobStatusRequest(handle=started.handle), metadata=metadata, timeout=30)
        report = {
            "providers": [p.name for p in providers.providers],
            "handle": {"provider": started.handle.provider, "jobId": started.handle.job_id},
            "lines": lines,
            "state": job_pb2.JobState.Name(status.status.state),
            "exitCode": status.status.exit_code if status.status.HasField("exit_code") else None,
        }
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
