// Command regionplugin is a Flotilla provider plugin written in Go with
// HashiCorp go-plugin and the buf-generated Go stubs. It serves the required
// services (IaCProviderService, ContractRegistryService) and exactly one
// optional service, RegionListerService, which its registry lists.
//
// It exists to prove that Flotilla's TypeScript host can run a plugin built
// the way Go teams build them, and shows the one thing such a plugin adds to
// go-plugin: it leaves when its host is gone (hostWatch), which go-plugin
// never notices. With the argument --ignore-host it does not, as a plain
// go-plugin plugin (the host's reaper test needs one). Set
// REGIONPLUGIN_STDOUT_BYTES to make each
// ListRegions call first write that many bytes to stdout: go-plugin carries
// a plugin's stdout through plugin.GRPCStdio over unbuffered channels, so the
// call completes only if the host consumes that stream.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	pluginv1 "flotilla/interop/gen/flotilla/plugin/v1"
	"flotilla/interop/handshake"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	pluginName    = "go-regions"
	pluginVersion = "0.1.0"
)

// regions are fixed so the tests can compare what a host receives.
var regions = []*pluginv1.Region{
	{Id: "go-north-1", DisplayName: "Go North", Available: true},
	{Id: "go-south-1", DisplayName: "Go South", Available: false},
}

type provider struct {
	pluginv1.UnimplementedIaCProviderServiceServer
	mu         sync.Mutex
	configured string
}

func (p *provider) Configure(_ context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	if len(req.GetConfigJson()) > 0 {
		var config map[string]any
		if err := json.Unmarshal(req.GetConfigJson(), &config); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "%s: config_json must be a JSON object: %v", pluginName, err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.configured = string(req.GetConfigJson())
	return &pluginv1.ConfigureResponse{}, nil
}

func (p *provider) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	capabilities := []string{"regions", "lang:go"}
	if p.configured != "" {
		capabilities = append(capabilities, "configured")
	}
	return &pluginv1.DescribeResponse{Name: pluginName, Version: pluginVersion, Capabilities: capabilities}, nil
}

type registry struct {
	pluginv1.UnimplementedContractRegistryServiceServer
}

func (registry) GetContractRegistry(context.Context, *pluginv1.GetContractRegistryRequest) (*pluginv1.GetContractRegistryResponse, error) {
	return &pluginv1.GetContractRegistryResponse{Registry: &pluginv1.ContractRegistry{
		PluginName:       pluginName,
		PluginVersion:    pluginVersion,
		ProtocolVersion:  uint32(handshake.Config.ProtocolVersion),
		Services:         []string{pluginv1.RegionListerService_ServiceDesc.ServiceName},
		ConfigSchemaJson: `{"type":"object"}`,
		TargetSchemaJson: `{"type":"object"}`,
		Sdk:              "go-plugin (Go)",
	}}, nil
}

type regionLister struct {
	pluginv1.UnimplementedRegionListerServiceServer
	stdoutBytes int
}

func (r regionLister) ListRegions(context.Context, *pluginv1.ListRegionsRequest) (*pluginv1.ListRegionsResponse, error) {
	if r.stdoutBytes > 0 {
		line := strings.Repeat("x", 99) + "\n"
		for written := 0; written < r.stdoutBytes; written += len(line) {
			fmt.Print(line)
		}
	}
	return &pluginv1.ListRegionsResponse{Regions: regions}, nil
}

// contract registers the Flotilla services on the *grpc.Server go-plugin
// creates. go-plugin adds its own (health, GRPCStdio, GRPCController).
type contract struct {
	plugin.NetRPCUnsupportedPlugin
	stdoutBytes int
	watch       *hostWatch
}

func (c *contract) GRPCServer(_ *plugin.GRPCBroker, server *grpc.Server) error {
	c.watch.serving(server)
	pluginv1.RegisterIaCProviderServiceServer(server, &provider{})
	pluginv1.RegisterContractRegistryServiceServer(server, registry{})
	pluginv1.RegisterRegionListerServiceServer(server, regionLister{stdoutBytes: c.stdoutBytes})
	return nil
}

func (c *contract) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, fmt.Errorf("%s is a plugin; it has no client side", pluginName)
}

// hostWatch ends the plugin when its host is gone, as Flotilla asks of every
// plugin: at stdin EOF when the host says its stdin pipe is its lifeline
// (FLOTILLA_PLUGIN_STDIN_LIFELINE=1; a go-plugin host hands over its own
// stdin instead, perhaps a terminal, so stdin means nothing without it), and
// when the parent process changes (the host died and the plugin was
// re-parented). It stops the gRPC server, as GRPCController.Shutdown does, so
// plugin.Serve returns, go-plugin removes its socket and main returns.
type hostWatch struct {
	mu     sync.Mutex
	server *grpc.Server
	once   sync.Once
}

func (w *hostWatch) serving(server *grpc.Server) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.server = server
}

func (w *hostWatch) hostGone() {
	w.once.Do(func() {
		w.mu.Lock()
		server := w.server
		w.mu.Unlock()
		if server == nil {
			// Gone before serving started: nothing to clean up yet.
			os.Exit(0)
		}
		server.Stop()
	})
}

func (w *hostWatch) start() {
	parent := os.Getppid()
	if os.Getenv("FLOTILLA_PLUGIN_STDIN_LIFELINE") == "1" {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			w.hostGone()
		}()
	}
	go func() {
		for range time.Tick(500 * time.Millisecond) {
			if os.Getppid() != parent {
				w.hostGone()
				return
			}
		}
	}()
}

func main() {
	stdoutBytes := 0
	if raw := os.Getenv("REGIONPLUGIN_STDOUT_BYTES"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "%s: REGIONPLUGIN_STDOUT_BYTES=%q is not a byte count; unset it or give a number\n", pluginName, raw)
			os.Exit(2)
		}
		stdoutBytes = n
	}
	watch := &hostWatch{}
	if !slices.Contains(os.Args[1:], "--ignore-host") {
		watch.start()
	}
	// Written before Serve, so it reaches the host's view of stderr directly.
	fmt.Fprintf(os.Stderr, "%s %s starting\n", pluginName, pluginVersion)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: handshake.Config,
		Plugins:         plugin.PluginSet{handshake.PluginName: &contract{stdoutBytes: stdoutBytes, watch: watch}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
