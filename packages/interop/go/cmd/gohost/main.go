// Command gohost is a Go host built with HashiCorp go-plugin, the way a Go
// team would embed Flotilla plugins: plugin.NewClient with gRPC allowed,
// Flotilla's magic cookie and (by default) AutoMTLS. It starts the plugin
// command given as arguments, checks health, reads the ContractRegistry,
// calls Describe and, when advertised, ListRegions, then Kill()s the plugin
// and checks that the process is gone.
//
// It prints one JSON report on stdout and exits 0 when it could produce one;
// the interop test decides what counts as a pass, so a failure shows every
// step's result rather than only the first error.
//
//	gohost [-automtls=false] [-start-timeout 60s] -- node plugin.js
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pluginv1 "flotilla/interop/gen/flotilla/plugin/v1"
	"flotilla/interop/handshake"
	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// clients is what the host dispenses: one typed client per contract service
// on go-plugin's connection.
type clients struct {
	conn         *grpc.ClientConn
	provider     pluginv1.IaCProviderServiceClient
	registry     pluginv1.ContractRegistryServiceClient
	regionLister pluginv1.RegionListerServiceClient
	runner       pluginv1.IaCProviderRunnerServiceClient
}

type contract struct {
	plugin.NetRPCUnsupportedPlugin
}

func (contract) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("gohost is a host; it serves no plugin")
}

func (contract) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return &clients{
		conn:         conn,
		provider:     pluginv1.NewIaCProviderServiceClient(conn),
		registry:     pluginv1.NewContractRegistryServiceClient(conn),
		regionLister: pluginv1.NewRegionListerServiceClient(conn),
		runner:       pluginv1.NewIaCProviderRunnerServiceClient(conn),
	}, nil
}

// report is the JSON the test reads. A step that failed leaves its error in
// the matching *Error field.
type report struct {
	Protocol          string          `json:"protocol,omitempty"`
	NegotiatedVersion int             `json:"negotiatedVersion,omitempty"`
	AutoMTLS          bool            `json:"autoMTLS"`
	StartError        string          `json:"startError,omitempty"`
	StartMillis       int64           `json:"startMillis"`
	PingError         string          `json:"pingError,omitempty"`
	Health            string          `json:"health,omitempty"`
	HealthError       string          `json:"healthError,omitempty"`
	Registry          json.RawMessage `json:"registry,omitempty"`
	RegistryError     string          `json:"registryError,omitempty"`
	Describe          json.RawMessage `json:"describe,omitempty"`
	DescribeError     string          `json:"describeError,omitempty"`
	Regions           json.RawMessage `json:"regions,omitempty"`
	RegionsError      string          `json:"regionsError,omitempty"`
	Job               *jobReport      `json:"job,omitempty"`
	PluginPid         int             `json:"pluginPid,omitempty"`
	KillMillis        int64           `json:"killMillis"`
	ForcedKill        bool            `json:"forcedKill"`
	ExitedAfterKill   bool            `json:"exitedAfterKill"`
	PidAliveAfterKill bool            `json:"pidAliveAfterKill"`
	PluginStdout      string          `json:"pluginStdout"`
	PluginStderr      string          `json:"pluginStderr"`
	HostLog           string          `json:"hostLog"`
}

// jobReport is what running one job through IaCProviderRunnerService gave.
type jobReport struct {
	Handle json.RawMessage `json:"handle,omitempty"`
	// Lines are the log lines JobLogs streamed (follow=true), in order.
	Lines []string `json:"lines"`
	// Status is the final JobStatus, as proto3 JSON.
	Status json.RawMessage `json:"status,omitempty"`
	// ExitCodeKnown tells a real exit code 0 from an unknown one.
	ExitCodeKnown bool   `json:"exitCodeKnown"`
	ExitCode      int32  `json:"exitCode"`
	Error         string `json:"error,omitempty"`
}

// lockedBuffer collects output written from go-plugin's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func main() {
	autoMTLS := flag.Bool("automtls", true, "negotiate mutual TLS with the plugin (go-plugin AutoMTLS)")
	startTimeout := flag.Duration("start-timeout", 60*time.Second, "how long to wait for the plugin's handshake")
	callTimeout := flag.Duration("call-timeout", 30*time.Second, "deadline of each call to the plugin")
	jobArgv := flag.String("job", "", `when the plugin advertises IaCProviderRunnerService: run this job (a JSON array, e.g. ["sh","-c","exit 3"]), follow its logs and report its exit code`)
	netRPCOnly := flag.Bool("netrpc-only", false, "leave AllowedProtocols unset, as a Go host that forgot gRPC does (go-plugin then allows net/rpc only)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "gohost: no plugin command; usage: gohost [flags] -- COMMAND [ARGS...]")
		os.Exit(2)
	}

	var stdout, stderr, hostLog lockedBuffer
	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "gohost",
		Level:  hclog.Debug,
		Output: io.MultiWriter(&hostLog, os.Stderr),
	})
	allowed := []plugin.Protocol{plugin.ProtocolGRPC}
	if *netRPCOnly {
		allowed = nil
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake.Config,
		Plugins:          plugin.PluginSet{handshake.PluginName: contract{}},
		Cmd:              exec.Command(flag.Arg(0), flag.Args()[1:]...),
		AllowedProtocols: allowed,
		AutoMTLS:         *autoMTLS,
		StartTimeout:     *startTimeout,
		Logger:           logger,
		Stderr:           io.MultiWriter(&stderr, os.Stderr),
		SyncStdout:       &stdout,
		SyncStderr:       &stderr,
	})
	// Kill is idempotent; this only matters when a step below panics.
	defer client.Kill()

	r := report{AutoMTLS: *autoMTLS}
	var job []string
	if *jobArgv != "" {
		if err := json.Unmarshal([]byte(*jobArgv), &job); err != nil || len(job) == 0 {
			fmt.Fprintf(os.Stderr, "gohost: -job must be a non-empty JSON array of strings, e.g. [\"sh\",\"-c\",\"exit 3\"]; got %q\n", *jobArgv)
			os.Exit(2)
		}
	}
	run(client, &r, *callTimeout, job)

	if rc := client.ReattachConfig(); rc != nil {
		r.PluginPid = rc.Pid
	}
	started := time.Now()
	client.Kill()
	r.KillMillis = time.Since(started).Milliseconds()
	r.ExitedAfterKill = client.Exited()
	r.ForcedKill = strings.Contains(hostLog.String(), "plugin failed to exit gracefully")
	if r.PluginPid > 0 {
		r.PidAliveAfterKill = pidAlive(r.PluginPid)
	}
	r.PluginStdout = stdout.String()
	r.PluginStderr = stderr.String()
	r.HostLog = hostLog.String()

	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gohost: encode report: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func run(client *plugin.Client, r *report, callTimeout time.Duration, job []string) {
	started := time.Now()
	rpcClient, err := client.Client()
	r.StartMillis = time.Since(started).Milliseconds()
	if err != nil {
		r.StartError = err.Error()
		return
	}
	r.Protocol = string(client.Protocol())
	r.NegotiatedVersion = client.NegotiatedVersion()
	if err := rpcClient.Ping(); err != nil {
		r.PingError = err.Error()
	}
	raw, err := rpcClient.Dispense(handshake.PluginName)
	if err != nil {
		r.StartError = "dispense: " + err.Error()
		return
	}
	c := raw.(*clients)

	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()

	// go-plugin's Ping already asks health for "plugin"; asking again here
	// records the serving status itself, not only the absence of an error.
	health, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		r.HealthError = err.Error()
	} else {
		r.Health = health.GetStatus().String()
	}

	registry, err := c.registry.GetContractRegistry(ctx, &pluginv1.GetContractRegistryRequest{})
	if err != nil {
		r.RegistryError = err.Error()
	} else {
		r.Registry = asJSON(registry.GetRegistry())
	}

	describe, err := c.provider.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		r.DescribeError = err.Error()
	} else {
		r.Describe = asJSON(describe)
	}

	// Only call what the registry advertises, as a Flotilla host does.
	for _, service := range registry.GetRegistry().GetServices() {
		if service != pluginv1.RegionListerService_ServiceDesc.ServiceName {
			continue
		}
		regions, err := c.regionLister.ListRegions(ctx, &pluginv1.ListRegionsRequest{})
		if err != nil {
			r.RegionsError = err.Error()
		} else {
			r.Regions = asJSON(regions)
		}
	}

	if job != nil && advertises(registry.GetRegistry(), pluginv1.IaCProviderRunnerService_ServiceDesc.ServiceName) {
		// A Flotilla host configures a provider before using it; so does this one.
		if _, err := c.provider.Configure(ctx, &pluginv1.ConfigureRequest{ConfigJson: []byte("{}")}); err != nil {
			r.Job = &jobReport{Error: "configure: " + err.Error()}
			return
		}
		r.Job = runJob(ctx, c.runner, job)
	}
}

func advertises(registry *pluginv1.ContractRegistry, service string) bool {
	for _, name := range registry.GetServices() {
		if name == service {
			return true
		}
	}
	return false
}

// runJob runs one job the way a Go embedder would: RunJob, then JobLogs with
// follow (a server stream that ends when the job has finished and its log is
// drained), then JobStatus for the real exit code.
func runJob(ctx context.Context, runner pluginv1.IaCProviderRunnerServiceClient, argv []string) *jobReport {
	report := &jobReport{Lines: []string{}}
	started, err := runner.RunJob(ctx, &pluginv1.RunJobRequest{Spec: &pluginv1.JobSpec{
		Name:    "gohost-job",
		Image:   "local",
		Command: argv[:1],
		Args:    argv[1:],
	}})
	if err != nil {
		report.Error = "RunJob: " + err.Error()
		return report
	}
	report.Handle = asJSON(started.GetHandle())
	stream, err := runner.JobLogs(ctx, &pluginv1.JobLogsRequest{Handle: started.GetHandle(), Follow: true})
	if err != nil {
		report.Error = "JobLogs: " + err.Error()
		return report
	}
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			report.Error = "JobLogs stream: " + err.Error()
			return report
		}
		for _, line := range chunk.GetLines() {
			report.Lines = append(report.Lines, line.GetText())
		}
	}
	status, err := runner.JobStatus(ctx, &pluginv1.JobStatusRequest{Handle: started.GetHandle()})
	if err != nil {
		report.Error = "JobStatus: " + err.Error()
		return report
	}
	report.Status = asJSON(status.GetStatus())
	if code := status.GetStatus().ExitCode; code != nil {
		report.ExitCodeKnown = true
		report.ExitCode = *code
	}
	return report
}

func asJSON(message proto.Message) json.RawMessage {
	out, err := protojson.Marshal(message)
	if err != nil {
		return json.RawMessage(strconv.Quote("protojson: " + err.Error()))
	}
	return out
}

// pidAlive reports whether a process with this pid still exists (signal 0
// checks existence without sending anything).
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
