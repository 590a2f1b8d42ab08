// A client of a running `flotilla serve`, in Go: the host API (proto/flotilla/host/v1) through the stubs
// buf generates (packages/interop/buf.gen.go.yaml) and grpc-go. It lists the host's providers, runs a job,
// streams the job's log as it is written, and reads the job's exit code; then prints one JSON report
// (which the test reads).
//
//	go run . ADDRESS 'COMMAND ...'
//
// ADDRESS is what `flotilla serve` printed (127.0.0.1:7070, or unix:/path/host.sock); the bearer token
// comes from FLOTILLA_SERVE_TOKEN, as the server's does. It travels as per-call credentials and is never
// printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	hostv1 "flotilla/interop/gen/flotilla/host/v1"
	pluginv1 "flotilla/interop/gen/flotilla/plugin/v1"
)

type logLine struct {
	Stream string `json:"stream"`
	Text   string `json:"text"`
}

type report struct {
	Providers []string          `json:"providers"`
	Handle    map[string]string `json:"handle"`
	Lines     []logLine         `json:"lines"`
	State     string            `json:"state"`
	ExitCode  *int32            `json:"exitCode"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go-host-client ADDRESS 'COMMAND ...'")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "go-host-client:", err)
		os.Exit(1)
	}
}

func run(address, command string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if token := os.Getenv("FLOTILLA_SERVE_TOKEN"); token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	// Plaintext (h2c), as the server was started without TLS; see docs/cli.md for TLS and mTLS.
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	host := hostv1.NewHostServiceClient(conn)

	providers, err := host.ListProviders(ctx, &hostv1.ListProvidersRequest{})
	if err != nil {
		return fmt.Errorf("ListProviders: %w", err)
	}
	started, err := host.RunJob(ctx, &hostv1.RunJobRequest{
		Spec: &pluginv1.JobSpec{Name: "go-client", Command: []string{"sh", "-c", command}},
	})
	if err != nil {
		return fmt.Errorf("RunJob: %w", err)
	}
	// Follow: the stream ends once the job has finished and its whole log was sent.
	stream, err := host.StreamJobLogs(ctx, &hostv1.StreamJobLogsRequest{Handle: started.GetHandle(), Follow: true})
	if err != nil {
		return fmt.Errorf("StreamJobLogs: %w", err)
	}
	out := report{Lines: []logLine{}}
	for {
		batch, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("StreamJobLogs: %w", err)
		}
		for _, line := range batch.GetLines() {
			out.Lines = append(out.Lines, logLine{Stream: line.GetStream().String(), Text: line.GetText()})
			fmt.Fprintln(os.Stderr, line.GetText())
		}
	}
	status, err := host.GetJobStatus(ctx, &hostv1.GetJobStatusRequest{Handle: started.GetHandle()})
	if err != nil {
		return fmt.Errorf("GetJobStatus: %w", err)
	}
	for _, p := range providers.GetProviders() {
		out.Providers = append(out.Providers, p.GetName())
	}
	out.Handle = map[string]string{"provider": started.GetHandle().GetProvider(), "jobId": started.GetHandle().GetJobId()}
	out.State = status.GetStatus().GetState().String()
	if status.GetStatus().ExitCode != nil {
		code := status.GetStatus().GetExitCode()
		out.ExitCode = &code
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
