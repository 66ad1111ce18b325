package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// installServer records what InstallDependencies streams back to the engine.
type installServer struct {
	grpc.ServerStream // unused methods; calling one panics
	mu                sync.Mutex
	stdout, stderr    bytes.Buffer
}

func (s *installServer) Send(r *pulumirpc.InstallDependenciesResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stdout.Write(r.GetStdout())
	s.stderr.Write(r.GetStderr())
	return nil
}

func (s *installServer) Context() context.Context { return context.Background() }

// installThroughServer runs the host's InstallDependencies for a project whose virtualenv's
// python reports whether its stdout and stderr are a terminal.
func installThroughServer(t *testing.T, isTerminal bool) *installServer {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake interpreter is a shell script")
	}
	project := t.TempDir()
	python := filepath.Join(project, "venv", "bin", "python")
	if err := os.MkdirAll(filepath.Dir(python), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n" +
		"if [ -t 1 ]; then echo 'stdout: terminal'; else echo 'stdout: pipe'; fi\n" +
		"if [ -t 2 ]; then echo 'stderr: terminal' >&2; else echo 'stderr: pipe' >&2; fi\n"
	if err := os.WriteFile(python, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, "requirements.txt"), []byte("pulumi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := &installServer{}
	req := &pulumirpc.InstallDependenciesRequest{
		Info:       info(t, project, project, ".", map[string]any{"virtualenv": "venv"}),
		IsTerminal: isTerminal,
	}
	if err := (&host{}).InstallDependencies(req, server); err != nil {
		t.Fatalf("InstallDependencies: %v", err)
	}
	return server
}

// With a terminal on the engine's side, pip gets one (the pty the SDK opens), so it shows its
// progress bars and colours as under the official host; both streams arrive through it.
func TestInstallDependenciesGivesPipTheTerminal(t *testing.T) {
	server := installThroughServer(t, true)
	out := server.stdout.String()
	if strings.Contains(out, "could not open pty") || strings.Contains(server.stderr.String(), "could not open pty") {
		t.Fatalf("no pseudo terminal on this machine: %q %q", out, server.stderr.String())
	}
	for _, want := range []string{"stdout: terminal", "stderr: terminal", "Finished installing dependencies."} {
		if !strings.Contains(out, want) {
			t.Errorf("streamed stdout %q does not contain %q", out, want)
		}
	}
}

// Without one, pip's stdout and stderr come back apart, each on its own field.
func TestInstallDependenciesStreamsBothOutputsWithoutATerminal(t *testing.T) {
	server := installThroughServer(t, false)
	if out := server.stdout.String(); !strings.Contains(out, "stdout: pipe") || strings.Contains(out, "stderr:") {
		t.Errorf("streamed stdout = %q", out)
	}
	if errs := server.stderr.String(); errs != "stderr: pipe\n" {
		t.Errorf("streamed stderr = %q", errs)
	}
}

// `pulumi install --use-language-version-tools` asks the host to install the Python that
// .python-version names (the official host runs pyenv); this host cannot, and says so rather
// than making the virtualenv with whatever python3 is on PATH.
func TestInstallDependenciesRefusesLanguageVersionTools(t *testing.T) {
	project := t.TempDir()
	req := &pulumirpc.InstallDependenciesRequest{
		Info:                    info(t, project, project, ".", map[string]any{"virtualenv": "venv"}),
		UseLanguageVersionTools: true,
	}
	err := (&host{}).InstallDependencies(req, &installServer{})
	if err == nil || !strings.Contains(err.Error(), "--use-language-version-tools") {
		t.Fatalf("error = %v, want one naming --use-language-version-tools", err)
	}
	if _, statErr := os.Stat(filepath.Join(project, "venv")); !os.IsNotExist(statErr) {
		t.Errorf("a virtualenv was made anyway (stat: %v)", statErr)
	}
}
