package langhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Plugin is a resource plugin the program needs: name ("azure-native") and
// version ("v2.92.3").
type Plugin struct {
	Name    string
	Version string
}

// Host is a running language runtime serving one program on a loopback port.
type Host struct {
	addr string
	srv  *grpc.Server
	done chan error
}

// Start serves program on 127.0.0.1 at a free port until Stop.
func Start(program pulumi.RunFunc, plugins []Plugin) (*Host, error) {
	if program == nil {
		return nil, errors.New("langhost: no program")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("langhost: listen: %w", err)
	}
	srv := grpc.NewServer()
	pulumirpc.RegisterLanguageRuntimeServer(srv, &runtime{program: program, plugins: plugins})
	h := &Host{addr: lis.Addr().String(), srv: srv, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(lis) }()
	return h, nil
}

// Addr is the address to pass to the CLI as --client.
func (h *Host) Addr() string { return h.addr }

// Stop waits for a running program to return and stops serving.
func (h *Host) Stop() error {
	h.srv.GracefulStop()
	if err := <-h.done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("langhost: serve: %w", err)
	}
	return nil
}

// runtime implements the part of the language runtime protocol the engine
// uses for an operation on an already running program.
type runtime struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	program pulumi.RunFunc
	plugins []Plugin
	mu      sync.Mutex // one Run at a time: the program's globals are not shared between runs
}

func (r *runtime) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range r.plugins {
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{Name: p.Name, Kind: "resource", Version: p.Version})
	}
	return resp, nil
}

func (r *runtime) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "1.0.0"}, nil
}

func (r *runtime) InstallDependencies(*pulumirpc.InstallDependenciesRequest, pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	return nil // the program is compiled into this process already
}

// Run runs the program once against the engine's resource monitor. A program
// error goes back in the response (the CLI prints it and fails the operation);
// a panic is turned into such an error instead of killing the host.
func (r *runtime) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	var engine string
	if len(req.GetArgs()) > 0 {
		engine = req.GetArgs()[0]
	}
	info := pulumi.RunInfo{
		Project:          req.GetProject(),
		Stack:            req.GetStack(),
		Config:           req.GetConfig(),
		ConfigSecretKeys: req.GetConfigSecretKeys(),
		Parallel:         req.GetParallel(),
		DryRun:           req.GetDryRun(),
		MonitorAddr:      req.GetMonitorAddress(),
		EngineAddr:       engine,
		Organization:     req.GetOrganization(),
		RootDirectory:    req.GetInfo().GetRootDirectory(),
	}
	pctx, err := pulumi.NewContext(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("langhost: context: %w", err)
	}
	defer func() { _ = pctx.Close() }()

	if err := runProgram(pctx, r.program); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func runProgram(pctx *pulumi.Context, program pulumi.RunFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("program panicked: %v", p)
		}
	}()
	return pulumi.RunWithContext(pctx, program)
}
