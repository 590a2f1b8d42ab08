"""Runs one of grpcio-tools' built-in generators as a protoc plugin for buf.

grpcio-tools ships protoc and the gRPC Python generator inside a Python
module (`python -m grpc_tools.protoc --grpc_python_out=...`), not as a
`protoc-gen-grpc_python` executable, and buf can drive a protoc builtin only
for the generators protoc itself knows. This script closes the gap: buf hands
it a CodeGeneratorRequest on stdin, it writes the request's descriptors to a
FileDescriptorSet, runs grpc_tools.protoc with `--<generator>_out` on them,
and answers with the generated files as a CodeGeneratorResponse.

    python3 grpc_tools_plugin.py python|pyi|grpc_python   (stdin/stdout: protoc plugin protocol)
"""

import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

GENERATORS = ("python", "pyi", "grpc_python")


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in GENERATORS:
        sys.stderr.write(
            f"grpc_tools_plugin: expected one generator name ({', '.join(GENERATORS)}), got {sys.argv[1:]}; "
            "name it in the buf template, e.g. local: [python3, grpc_tools_plugin.py, grpc_python]\n"
        )
        return 2
    generator = sys.argv[1]
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse()
    # The contract uses proto3 `optional` (JobStatus.exit_code); grpc_tools'
    # generators handle it, and buf refuses plugins that do not say so.
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL

    with tempfile.TemporaryDirectory(prefix="flotilla-grpc-tools-") as work:
        descriptor_set = os.path.join(work, "request.binpb")
        out_dir = os.path.join(work, "out")
        os.mkdir(out_dir)
        with open(descriptor_set, "wb") as f:
            f.write(descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString())
        args = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--descriptor_set_in={descriptor_set}",
            f"--{generator}_out={out_dir}",
        ]
        if request.parameter:
            args.append(f"--{generator}_opt={request.parameter}")
        args.extend(request.file_to_generate)
        # protoc's stdout must not mix with the response this script writes.
        result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            response.error = f"grpc_tools.protoc --{generator}_out failed: {result.stderr or result.stdout}".strip()
        else:
            for root, _dirs, files in os.walk(out_dir):
                for name in sorted(files):
                    path = os.path.join(root, name)
                    with open(path, encoding="utf-8") as f:
                        response.file.add(name=os.path.relpath(path, out_dir), content=f.read())

    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
