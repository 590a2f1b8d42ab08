"""A Flotilla provider plugin in Python: grpcio, the buf-generated stubs, and no SDK.

What a host needs from a plugin in any language, each done here in a few lines:
- the magic cookie and protocol versions checked (check_host);
- a gRPC server on a Unix socket (or TCP when the host asks), AutoMTLS when the host sends its
  certificate (server_credentials), and the handshake line as the first line of stdout;
- grpc.health.v1.Health answering SERVING for "plugin", and go-plugin's GRPCController whose
  Shutdown stops the plugin gracefully;
- leaving when the host is gone: stdin EOF (when the host says stdin is its lifeline), the parent
  process changing, SIGTERM (Lifecycle);
- the registry, listing exactly the optional services served, with the jobs a conformance run
  may start (Registry); the provider's Configure and Describe (Provider); the runner (jobs.py).

Run it through a host, e.g. `flotilla plugin test -- python3 plugin.py` with the generated stubs on
PYTHONPATH (see docs/other-languages.md); by hand it says so and exits 1.
"""

import base64
import datetime
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from concurrent import futures

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

import flotilla.plugin.v1.provider_pb2 as provider_pb2
import flotilla.plugin.v1.provider_pb2_grpc as provider_pb2_grpc
import flotilla.plugin.v1.registry_pb2 as registry_pb2
import flotilla.plugin.v1.registry_pb2_grpc as registry_pb2_grpc
import flotilla.plugin.v1.runner_pb2 as runner_pb2
import flotilla.plugin.v1.runner_pb2_grpc as runner_pb2_grpc
from jobs import PROVIDER, Runner, conformance_jobs

VERSION = "0.1.0"
# The values of packages/protocol/src/wire/handshake.ts: the host sets the cookie, so a plugin
# knows it was started by one. Not a secret.
MAGIC_COOKIE_KEY = "FLOTILLA_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "6f1d4c0b-flotilla-provider-plugin"
CORE_PROTOCOL_VERSION = 1
APP_PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "env": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Variables every job gets, under the job's own.",
        }
    },
    "additionalProperties": False,
}


def log(message):
    """One line on stderr, which the host logs under the plugin's name; a host gone is no error."""
    try:
        sys.stderr.write(f"{PROVIDER}: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass


def check_host(env):
    """Exits 1 with a message unless a host started this process and speaks our protocol version."""
    if env.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write(
            f"This is the {PROVIDER} Flotilla provider plugin; a Flotilla host starts it "
            f"(e.g. `flotilla plugin test -- python3 {sys.argv[0]}`). It is not meant to be run by hand.\n"
        )
        sys.exit(1)
    versions = [v.strip() for v in env.get("PLUGIN_PROTOCOL_VERSIONS", "").split(",") if v.strip()]
    if versions and str(APP_PROTOCOL_VERSION) not in versions:
        sys.stderr.write(
            f"{PROVIDER}: the host speaks contract versions {', '.join(versions)}, this plugin "
            f"{APP_PROTOCOL_VERSION}; use a host and plugin with a version in common\n"
        )
        sys.exit(1)


class Provider(provider_pb2_grpc.IaCProviderServiceServicer):
    """Configure checks the config against CONFIG_SCHEMA's rules, naming the key that is wrong."""

    def __init__(self, runner):
        self.runner = runner

    def Configure(self, request, context):
        try:
            config = json.loads(request.config_json.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"config_json: not JSON ({error})")
        if not isinstance(config, dict):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "config_json: must be a JSON object")
        for key in config:
            if key != "env":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{key}: unknown; the {PROVIDER} plugin takes only env")
        env = config.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, 'env: must map names to strings, e.g. {"GREETING": "hi"}')
        self.runner.config_env = env
        return provider_pb2.ConfigureResponse()

    def Describe(self, request, context):
        return provider_pb2.DescribeResponse(name=PROVIDER, version=VERSION, capabilities=["jobs:local-process"])


RUNNER_SERVICE = runner_pb2.DESCRIPTOR.services_by_name["IaCProviderRunnerService"].full_name


class Registry(registry_pb2_grpc.ContractRegistryServiceServicer):
    """The registry is a promise: it lists exactly the optional services registered in serve()."""

    def GetContractRegistry(self, request, context):
        return registry_pb2.GetContractRegistryResponse(
            registry=registry_pb2.ContractRegistry(
                plugin_name=PROVIDER,
                plugin_version=VERSION,
                protocol_version=APP_PROTOCOL_VERSION,
                services=[RUNNER_SERVICE],
                config_schema_json=json.dumps(CONFIG_SCHEMA),
                sdk=f"grpcio {grpc.__version__} (Python)",
                conformance_jobs=conformance_jobs(),
            )
        )


def controller(on_shutdown):
    """go-plugin's plugin.GRPCController: Shutdown(Empty) returns Empty and stops the plugin.

    Served without generated stubs: plugin.Empty has no fields, so its encoding is empty bytes.
    """

    def shutdown(_request, _context):
        on_shutdown("the host asked (GRPCController.Shutdown)")
        return b""

    return grpc.method_handlers_generic_handler(
        "plugin.GRPCController",
        {
            "Shutdown": grpc.unary_unary_rpc_method_handler(
                shutdown, request_deserializer=lambda data: data, response_serializer=lambda data: data
            )
        },
    )


def server_credentials(client_cert_pem):
    """AutoMTLS as go-plugin does it: a fresh self-signed certificate for "localhost", which the host
    pins from the handshake, and only the host's certificate (PLUGIN_CLIENT_CERT) accepted as a client.
    grpcio offers ALPN "h2", which a Go host over TLS insists on. Returns the credentials and the DER."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    credentials = grpc.ssl_server_credentials(
        [(key_pem, certificate.public_bytes(serialization.Encoding.PEM))],
        root_certificates=client_cert_pem.encode(),
        require_client_auth=True,
    )
    return credentials, certificate.public_bytes(serialization.Encoding.DER)


def listen(server, credentials, env):
    """Binds where the host wants: TCP within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT when it asks
    (FLOTILLA_PLUGIN_NETWORK=tcp), else a Unix socket in PLUGIN_UNIX_SOCKET_DIR or a short directory
    of our own (socket paths are limited to about 108 bytes). Returns network, address and the
    directory to remove at exit, if ours."""
    bind = (lambda address: server.add_secure_port(address, credentials)) if credentials else server.add_insecure_port
    if env.get("FLOTILLA_PLUGIN_NETWORK") == "tcp":
        low, high = int(env.get("PLUGIN_MIN_PORT", "0")), int(env.get("PLUGIN_MAX_PORT", "0"))
        for port in range(low, high + 1):
            try:
                if bind(f"127.0.0.1:{port}"):
                    return "tcp", f"127.0.0.1:{port}", None
            except RuntimeError:
                continue
        raise SystemExit(f"{PROVIDER}: no free TCP port in {low}..{high} (PLUGIN_MIN_PORT..PLUGIN_MAX_PORT)")
    own_dir = None
    socket_dir = env.get("PLUGIN_UNIX_SOCKET_DIR")
    if not socket_dir:
        socket_dir = own_dir = tempfile.mkdtemp(prefix="flotilla-py-", dir="/tmp")
    path = os.path.join(socket_dir, f"{PROVIDER}-{os.getpid()}.sock")
    bind(f"unix:{path}")
    return "unix", path, own_dir


class Lifecycle:
    """When to stop: the host asked, sent SIGTERM, or is gone. SIGINT is ignored, as go-plugin's
    plugins ignore it: Ctrl-C reaches host and plugins alike, and the host decides the order."""

    def __init__(self, env):
        self.stopping = threading.Event()
        self.why = ""
        self._lock = threading.Lock()
        signal.signal(signal.SIGTERM, lambda *_: self.stop("SIGTERM"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        parent = os.getppid()
        # A go-plugin host hands over its own stdin (maybe a terminal): it means something only when
        # a Flotilla host says that its pipe is a lifeline.
        if env.get("FLOTILLA_PLUGIN_STDIN_LIFELINE") == "1":
            threading.Thread(target=self._read_stdin, daemon=True).start()
        threading.Thread(target=self._watch_parent, args=(parent,), daemon=True).start()

    def stop(self, why):
        with self._lock:
            if not self.stopping.is_set():
                self.why = why
                self.stopping.set()

    def _read_stdin(self):
        # os.read, not sys.stdin: a thread blocked in a buffered read holds its lock, and Python's
        # exit then aborts waiting for it.
        while os.read(0, 65536):
            pass
        self.stop("stdin closed: the host is gone")

    def _watch_parent(self, parent):
        while not self.stopping.wait(0.5):
            if os.getppid() != parent:
                self.stop(f"parent process {parent} exited: the host is gone")


def main():
    env = os.environ
    check_host(env)
    lifecycle = Lifecycle(env)
    runner = Runner()
    # Each followed log holds a worker while it waits for lines.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=64),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    provider_pb2_grpc.add_IaCProviderServiceServicer_to_server(Provider(runner), server)
    registry_pb2_grpc.add_ContractRegistryServiceServicer_to_server(Registry(), server)
    runner_pb2_grpc.add_IaCProviderRunnerServiceServicer_to_server(runner, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("plugin", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    server.add_generic_rpc_handlers((controller(lifecycle.stop),))

    client_cert = env.get("PLUGIN_CLIENT_CERT")
    credentials, certificate_der = server_credentials(client_cert) if client_cert else (None, b"")
    network, address, own_dir = listen(server, credentials, env)
    server.start()
    # The handshake: CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT, the certificate as base64 DER
    # without padding (a Go host rejects "="), and the first line on stdout.
    certificate = base64.b64encode(certificate_der).decode("ascii").rstrip("=")
    sys.stdout.write(f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{network}|{address}|grpc|{certificate}\n")
    sys.stdout.flush()
    log(f"{VERSION} serving on {network} {address}")

    lifecycle.stopping.wait()
    log(f"stopping: {lifecycle.why}")
    health_servicer.enter_graceful_shutdown()
    runner.stop_all(f"the {PROVIDER} plugin is shutting down")
    server.stop(grace=2).wait()
    if own_dir:
        shutil.rmtree(own_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
