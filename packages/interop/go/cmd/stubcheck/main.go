// Command stubcheck proves that the buf-generated Go stubs for the whole
// contract compile, link and work: it builds a RunJobRequest with a full
// JobSpec, round-trips it through the protobuf wire format, and prints a JSON
// report (every service the generated descriptors define, and the decoded
// message) that the interop test compares with the TypeScript side.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	hostv1 "flotilla/interop/gen/flotilla/host/v1"
	pluginv1 "flotilla/interop/gen/flotilla/plugin/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type report struct {
	Services []string        `json:"services"`
	Request  json.RawMessage `json:"request"`
	WireSize int             `json:"wireSize"`
	// Wire is the encoded RunJobRequest (base64 in JSON), for the TypeScript
	// side to decode with its own generated code.
	Wire []byte `json:"wire"`
	// ExitZeroPresent and ExitUnknownPresent show that exit_code is
	// presence-tracked in Go too: 0 survives the wire, "unknown" stays absent.
	ExitZeroPresent    bool `json:"exitZeroPresent"`
	ExitUnknownPresent bool `json:"exitUnknownPresent"`
}

func main() {
	files := []protoreflect.FileDescriptor{
		pluginv1.File_flotilla_plugin_v1_provider_proto,
		pluginv1.File_flotilla_plugin_v1_registry_proto,
		pluginv1.File_flotilla_plugin_v1_runner_proto,
		pluginv1.File_flotilla_plugin_v1_resource_proto,
		pluginv1.File_flotilla_plugin_v1_region_proto,
		pluginv1.File_flotilla_plugin_v1_drift_proto,
		pluginv1.File_flotilla_plugin_v1_job_proto,
		hostv1.File_flotilla_host_v1_host_proto,
	}
	var services []string
	for _, file := range files {
		for i := 0; i < file.Services().Len(); i++ {
			services = append(services, string(file.Services().Get(i).FullName()))
		}
	}

	sent := &pluginv1.RunJobRequest{
		Spec: &pluginv1.JobSpec{
			Name:           "interop-check",
			Image:          "alpine:3.20",
			Command:        []string{"sh", "-c"},
			Args:           []string{"exit 0"},
			Env:            map[string]string{"GREETING": "hello"},
			SecretEnv:      map[string]string{"TOKEN": "secret://vault/ci/token"},
			Resources:      &pluginv1.Resources{CpuMillicores: 250, MemoryMib: 128},
			IdempotencyKey: "stubcheck-1",
			Target: &pluginv1.JobTarget{Kind: &pluginv1.JobTarget_GcpCloudRun{
				GcpCloudRun: &pluginv1.GcpCloudRunTarget{Project: "demo-project", Region: "europe-west1"},
			}},
		},
	}

	wire, err := proto.Marshal(sent)
	if err != nil {
		fail("marshal RunJobRequest: %v", err)
	}
	received := &pluginv1.RunJobRequest{}
	if err := proto.Unmarshal(wire, received); err != nil {
		fail("unmarshal RunJobRequest: %v", err)
	}
	if !proto.Equal(sent, received) {
		fail("RunJobRequest changed in a wire round trip")
	}
	asJSON, err := protojson.Marshal(received)
	if err != nil {
		fail("protojson RunJobRequest: %v", err)
	}
	exitZero := int32(0)
	out, err := json.Marshal(report{
		Services:           services,
		Request:            asJSON,
		WireSize:           len(wire),
		Wire:               wire,
		ExitZeroPresent:    roundTripStatus(&pluginv1.JobStatus{ExitCode: &exitZero}).ExitCode != nil,
		ExitUnknownPresent: roundTripStatus(&pluginv1.JobStatus{}).ExitCode != nil,
	})
	if err != nil {
		fail("encode report: %v", err)
	}
	fmt.Println(string(out))
}

func roundTripStatus(status *pluginv1.JobStatus) *pluginv1.JobStatus {
	wire, err := proto.Marshal(status)
	if err != nil {
		fail("marshal JobStatus: %v", err)
	}
	decoded := &pluginv1.JobStatus{}
	if err := proto.Unmarshal(wire, decoded); err != nil {
		fail("unmarshal JobStatus: %v", err)
	}
	return decoded
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "stubcheck: "+format+"\n", args...)
	os.Exit(1)
}
