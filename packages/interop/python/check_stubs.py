"""Proves the buf-generated Python stubs for the Flotilla contract import and work.

Imports every generated module, round-trips a full RunJobRequest through the
protobuf wire format, checks that JobStatus.exit_code is presence-tracked,
and makes one real gRPC call (RegionListerService/ListRegions) from a
generated stub to a generated servicer over a Unix socket. Prints one JSON
report on stdout for the interop test to compare with the TypeScript side.

    PYTHONPATH=<buf out dir> python3 check_stubs.py SOCKET_DIR
"""

import base64
import json
import os
import sys
from concurrent import futures

import grpc
from google.protobuf import json_format

import flotilla.host.v1.host_pb2 as host_pb2
import flotilla.host.v1.host_pb2_grpc as host_pb2_grpc
import flotilla.plugin.v1.drift_pb2 as drift_pb2
import flotilla.plugin.v1.drift_pb2_grpc as drift_pb2_grpc
import flotilla.plugin.v1.job_pb2 as job_pb2
import flotilla.plugin.v1.provider_pb2 as provider_pb2
import flotilla.plugin.v1.provider_pb2_grpc as provider_pb2_grpc
import flotilla.plugin.v1.region_pb2 as region_pb2
import flotilla.plugin.v1.region_pb2_grpc as region_pb2_grpc
import flotilla.plugin.v1.registry_pb2 as registry_pb2
import flotilla.plugin.v1.registry_pb2_grpc as registry_pb2_grpc
import flotilla.plugin.v1.resource_pb2 as resource_pb2
import flotilla.plugin.v1.resource_pb2_grpc as resource_pb2_grpc
import flotilla.plugin.v1.runner_pb2 as runner_pb2
import flotilla.plugin.v1.runner_pb2_grpc as runner_pb2_grpc

MODULES_WITH_SERVICES = [
    (provider_pb2, provider_pb2_grpc),
    (registry_pb2, registry_pb2_grpc),
    (runner_pb2, runner_pb2_grpc),
    (resource_pb2, resource_pb2_grpc),
    (region_pb2, region_pb2_grpc),
    (drift_pb2, drift_pb2_grpc),
    (host_pb2, host_pb2_grpc),
]


class Regions(region_pb2_grpc.RegionListerServiceServicer):
    """A servicer built from the generated base class, answering one fixed region."""

    def ListRegions(self, request, context):
        return region_pb2.ListRegionsResponse(
            regions=[region_pb2.Region(id="py-central-1", display_name="Python Central", available=True)]
        )


def services_with_stubs():
    """Every service the descriptors define, checked to have a generated client stub."""
    names = []
    for messages, grpc_module in MODULES_WITH_SERVICES:
        for service in messages.DESCRIPTOR.services_by_name.values():
            stub = getattr(grpc_module, f"{service.name}Stub", None)
            if stub is None:
                raise SystemExit(f"check_stubs: {grpc_module.__name__} has no {service.name}Stub")
            names.append(service.full_name)
    return names


def round_trip_request():
    sent = runner_pb2.RunJobRequest(
        spec=job_pb2.JobSpec(
            name="interop-check",
            image="alpine:3.20",
            command=["sh", "-c"],
            args=["exit 0"],
            env={"GREETING": "hello"},
            secret_env={"TOKEN": "secret://vault/ci/token"},
            resources=job_pb2.Resources(cpu_millicores=250, memory_mib=128),
            idempotency_key="stubcheck-1",
            target=job_pb2.JobTarget(
                gcp_cloud_run=job_pb2.GcpCloudRunTarget(project="demo-project", region="europe-west1")
            ),
        )
    )
    wire = sent.SerializeToString()
    received = runner_pb2.RunJobRequest.FromString(wire)
    if received != sent:
        raise SystemExit("check_stubs: RunJobRequest changed in a wire round trip")
    return json_format.MessageToDict(received), wire


def exit_code_present(status):
    return job_pb2.JobStatus.FromString(status.SerializeToString()).HasField("exit_code")


def call_over_unix_socket(socket_dir):
    address = f"unix:{os.path.join(socket_dir, 'py-stubs.sock')}"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    region_pb2_grpc.add_RegionListerServiceServicer_to_server(Regions(), server)
    server.add_insecure_port(address)
    server.start()
    try:
        with grpc.insecure_channel(address) as channel:
            reply = region_pb2_grpc.RegionListerServiceStub(channel).ListRegions(
                region_pb2.ListRegionsRequest(), timeout=30
            )
            return json_format.MessageToDict(reply)
    finally:
        server.stop(grace=None)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: check_stubs.py SOCKET_DIR (a short directory for a Unix socket)")
    request, wire = round_trip_request()
    report = {
        "services": services_with_stubs(),
        "request": request,
        "wireSize": len(wire),
        "wire": base64.b64encode(wire).decode("ascii"),
        "exitZeroPresent": exit_code_present(job_pb2.JobStatus(exit_code=0)),
        "exitUnknownPresent": exit_code_present(job_pb2.JobStatus()),
        "listRegions": call_over_unix_socket(sys.argv[1]),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
