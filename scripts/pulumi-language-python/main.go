// Command pulumi-language-python is a minimal Python language host for the Pulumi CLI.
//
// Why it exists: the official host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) which the Go module proxy
// reachable from our CI does not serve, so scripts/ensure-pulumi cannot build it. This host
// implements the part of the LanguageRuntime protocol that the engine needs to run Python
// programs and Python policy packs: it launches the `pulumi-language-python-exec` shim that
// ships in the sdk/v3 module (the same shim the official host runs), passing configuration in
// PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS exactly like the official host. Everything it does
// not implement answers Unimplemented, which the engine treats as "not supported".
//
// The Python interpreter is, in order: the project's `virtualenv` runtime option (relative to
// the project root; bin/python, or Scripts\python.exe on Windows), the PULUMI_PYTHON_CMD
// environment variable, then `python3` on PATH (program.go). `pulumi install` creates that
// virtualenv if needed and pip-installs requirements.txt into it (install.go), as the official
// host does with `toolchain: pip`; the uv and poetry toolchains are refused with an error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"
	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is stamped at build time with -ldflags "-X main.version=<pulumi version>".
var version = "0.0.0-dev"

// userActionableExitCode is what the exec shim returns after it has already shown the user a
// message; the engine should then bail without printing a second, generic error.
const userActionableExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	execScript    string
}

func main() {
	// The engine passes the engine address as the last positional argument; flags such as
	// -tracing or -virtualenv may precede it and are accepted and ignored here.
	var positional []string
	for _, arg := range os.Args[1:] {
		if !strings.HasPrefix(arg, "-") {
			positional = append(positional, arg)
		}
	}
	self, err := os.Executable()
	if err != nil {
		fatal(fmt.Errorf("locating the language host executable: %w", err))
	}
	h := &host{execScript: filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")}
	if len(positional) > 0 {
		h.engineAddress = positional[len(positional)-1]
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fatal(fmt.Errorf("starting the language host: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins reports none: Python dynamic providers are served by the
// pulumi-resource-pulumi-python launcher that sits beside the CLI, nothing is downloaded.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// InstallDependencies is what `pulumi install` (and `pulumi new`) call: it creates the
// configured virtualenv if it is missing and installs requirements.txt into it, streaming
// pip's output back to the CLI.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	l, err := resolve(req.GetInfo(), req.GetDirectory()) //nolint:staticcheck // older engines only send Directory
	if err != nil {
		return err
	}
	// The official host then installs the Python that .python-version names (with pyenv);
	// making the virtualenv with whichever python3 is on PATH instead would go unnoticed.
	if req.GetUseLanguageVersionTools() {
		return errors.New("--use-language-version-tools is not supported by this Python language host: " +
			"install the Python version the project needs yourself, then run `pulumi install` without it")
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close() //nolint:errcheck // closed explicitly below; this covers the error paths
	// With a terminal, both writers are the one pty (an *os.File): passed as it is, pip's output
	// goes straight to it, and pip sees a terminal (progress bars, colours), as under the
	// official host. Without one, the two writers send on the one gRPC stream, which must not
	// be used from two goroutines at once (exec copies stdout and stderr concurrently).
	if stdout != stderr {
		var sendMu sync.Mutex
		stdout, stderr = &lockedWriter{mu: &sendMu, w: stdout}, &lockedWriter{mu: &sendMu, w: stderr}
	}
	if err := installDependencies(server.Context(), l, os.Environ(), os.Getenv, stdout, stderr); err != nil {
		return err
	}
	return closer.Close()
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	l, err := resolve(req.GetInfo(), "")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: l.python, Version: version}, nil
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// Run executes a Pulumi program through the exec shim and reports how it ended.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

	info := req.GetInfo()
	l, err := resolve(info, req.GetProgram()) //nolint:staticcheck // older engines only send Program
	if err == nil {
		err = l.ready()
	}
	if err != nil {
		return nil, err
	}

	args := []string{
		"-u", h.execScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", engine,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	}
	if req.GetDryRun() {
		args = append(args, "--dry_run", "true")
	}
	if req.GetOrganization() != "" {
		args = append(args, "--organization", req.GetOrganization())
	}
	if info != nil && info.GetRootDirectory() != "" {
		args = append(args, "--root_directory", info.GetRootDirectory())
	}
	args = append(args, l.program)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(nonNil(req.GetConfig()))
	if err != nil {
		return nil, fmt.Errorf("encoding configuration: %w", err)
	}
	secretKeys, err := json.Marshal(nonNilSlice(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, fmt.Errorf("encoding secret configuration keys: %w", err)
	}

	cmd := exec.CommandContext(ctx, l.python, args...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(l.environment(os.Environ()),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
	)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == userActionableExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a plugin written in Python (a policy pack, or a provider with a
// PulumiPlugin.yaml) and streams its output back to the engine, which reads the gRPC port the
// plugin prints on stdout.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	l, err := resolve(req.GetInfo(), req.GetProgram()) //nolint:staticcheck // older engines only send Program
	if err == nil {
		err = l.ready()
	}
	if err != nil {
		return err
	}
	args := append([]string{"-u", l.program}, req.GetArgs()...)

	cmd := exec.CommandContext(server.Context(), l.python, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(l.environment(os.Environ()), req.GetEnv()...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting plugin %q: %w", l.program, err)
	}

	var sendMu sync.Mutex
	send := func(msg *pulumirpc.RunPluginResponse) {
		sendMu.Lock()
		defer sendMu.Unlock()
		_ = server.Send(msg) // the engine may have gone away; the plugin ends with the context
	}
	var wg sync.WaitGroup
	pump := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
		defer wg.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				send(wrap(append([]byte(nil), buf[:n]...)))
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go pump(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	go pump(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	wg.Wait()

	code := 0
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = exitErr.ExitCode()
	}
	send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
