package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// env is a getenv over a fixed map, so tests never depend on the caller's environment.
func env(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}

func info(t *testing.T, root, programDir, entryPoint string, options map[string]any) *pulumirpc.ProgramInfo {
	t.Helper()
	opts, err := structpb.NewStruct(options)
	if err != nil {
		t.Fatalf("options %v: %v", options, err)
	}
	return &pulumirpc.ProgramInfo{
		RootDirectory: root, ProgramDirectory: programDir, EntryPoint: entryPoint, Options: opts,
	}
}

func mustResolve(
	t *testing.T, pi *pulumirpc.ProgramInfo, legacy, goos string, vars map[string]string,
) launch {
	t.Helper()
	l, err := resolveFor(pi, legacy, goos, env(vars))
	if err != nil {
		t.Fatalf("resolveFor: %v", err)
	}
	return l
}

func TestInterpreterVirtualenvRelativeToProjectRoot(t *testing.T) {
	root := filepath.Join(string(filepath.Separator), "project")
	program := filepath.Join(root, "src")
	l := mustResolve(t, info(t, root, program, ".", map[string]any{"virtualenv": "venv"}), "", "linux",
		map[string]string{"PULUMI_PYTHON_CMD": "/elsewhere/python"})
	if want := filepath.Join(root, "venv", "bin", "python"); l.python != want {
		t.Errorf("python = %q, want %q (the option wins over PULUMI_PYTHON_CMD)", l.python, want)
	}
	if want := filepath.Join(root, "venv"); l.virtualenv != want {
		t.Errorf("virtualenv = %q, want %q", l.virtualenv, want)
	}
}

func TestInterpreterVirtualenvWithoutRootUsesProgramDirectory(t *testing.T) {
	program := filepath.Join(string(filepath.Separator), "pack")
	l := mustResolve(t, info(t, "", program, ".", map[string]any{"virtualenv": "interpreter"}), "", "linux", nil)
	if want := filepath.Join(program, "interpreter", "bin", "python"); l.python != want {
		t.Errorf("python = %q, want %q", l.python, want)
	}
}

func TestInterpreterAbsoluteVirtualenv(t *testing.T) {
	venv := filepath.Join(string(filepath.Separator), "opt", "venvs", "app")
	l := mustResolve(t, info(t, "/project", "/project", ".", map[string]any{"virtualenv": venv}), "", "linux", nil)
	if want := filepath.Join(venv, "bin", "python"); l.python != want {
		t.Errorf("python = %q, want %q", l.python, want)
	}
}

func TestInterpreterWindowsVirtualenvLayout(t *testing.T) {
	root := filepath.Join(string(filepath.Separator), "project")
	l := mustResolve(t, info(t, root, root, ".", map[string]any{"virtualenv": "venv"}), "", "windows", nil)
	if want := filepath.Join(root, "venv", "Scripts", "python.exe"); l.python != want {
		t.Errorf("python = %q, want %q", l.python, want)
	}
	got := l.environment([]string{"Path=C:\\Windows", "PYTHONHOME=C:\\Python", "OTHER=1"})
	wantEnv := []string{
		"Path=" + filepath.Join(root, "venv", "Scripts") + ";C:\\Windows",
		"OTHER=1",
		"VIRTUAL_ENV=" + filepath.Join(root, "venv"),
	}
	if !slices.Equal(got, wantEnv) {
		t.Errorf("environment = %q, want %q", got, wantEnv)
	}
}

func TestInterpreterFallbacks(t *testing.T) {
	for _, tc := range []struct {
		name string
		goos string
		vars map[string]string
		want string
	}{
		{"PULUMI_PYTHON_CMD", "linux", map[string]string{"PULUMI_PYTHON_CMD": "/usr/bin/python3.13"}, "/usr/bin/python3.13"},
		{"python3", "linux", nil, "python3"},
		{"python on Windows", "windows", nil, "python"},
		{"PULUMI_PYTHON_CMD on Windows", "windows", map[string]string{"PULUMI_PYTHON_CMD": "py"}, "py"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// With ProgramInfo but no virtualenv option, and from an older engine without one.
			for _, pi := range []*pulumirpc.ProgramInfo{info(t, "/p", "/p", ".", nil), nil} {
				if l := mustResolve(t, pi, "", tc.goos, tc.vars); l.python != tc.want {
					t.Errorf("python = %q, want %q", l.python, tc.want)
				}
			}
		})
	}
}

func TestEnvironmentActivatesVirtualenv(t *testing.T) {
	l := mustResolve(t, info(t, "/p", "/p", ".", map[string]any{"virtualenv": "/v"}), "", "linux", nil)
	got := l.environment([]string{"PATH=/usr/bin", "VIRTUAL_ENV=/old", "PYTHONHOME=/usr", "HOME=/h"})
	want := []string{"PATH=/v/bin:/usr/bin", "HOME=/h", "VIRTUAL_ENV=/v"}
	if !slices.Equal(got, want) {
		t.Errorf("environment = %q, want %q", got, want)
	}
	plain := mustResolve(t, info(t, "/p", "/p", ".", nil), "", "linux", nil)
	if got := plain.environment([]string{"PATH=/usr/bin", "PYTHONHOME=/usr"}); len(got) != 2 {
		t.Errorf("without a virtualenv the environment is passed on unchanged, got %q", got)
	}
}

func TestEntryPoint(t *testing.T) {
	root := filepath.Join(string(filepath.Separator), "project")
	for _, tc := range []struct {
		name       string
		programDir string
		entryPoint string
		want       string
	}{
		// `main: app/` in Pulumi.yaml: the engine sends the directory and ".", the shim runs
		// app/__main__.py.
		{"main names a directory", filepath.Join(root, "app"), ".", filepath.Join(root, "app")},
		{"no main: the project directory", root, "", root},
		// `main: deploy.py`: the directory is the project, the entry point the file.
		{"main names a file", root, "deploy.py", filepath.Join(root, "deploy.py")},
		{"a file in a subdirectory", root, filepath.Join("src", "deploy.py"), filepath.Join(root, "src", "deploy.py")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := mustResolve(t, info(t, root, tc.programDir, tc.entryPoint, nil), "ignored.py", "linux", nil)
			if l.program != tc.want {
				t.Errorf("program = %q, want %q", l.program, tc.want)
			}
			if l.programDir != tc.programDir {
				t.Errorf("programDir = %q, want %q", l.programDir, tc.programDir)
			}
		})
	}
}

func TestEntryPointFromOlderEngines(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "__main__.py"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "deploy.py")
	for _, tc := range []struct{ legacy, program, programDir string }{
		{"", ".", "."},
		{dir, dir, dir}, // a directory with __main__.py
		{file, file, dir},
	} {
		l := mustResolve(t, nil, tc.legacy, "linux", nil)
		if l.program != tc.program || l.programDir != tc.programDir {
			t.Errorf("legacy %q: program, programDir = %q, %q; want %q, %q",
				tc.legacy, l.program, l.programDir, tc.program, tc.programDir)
		}
	}
}

func TestToolchainOption(t *testing.T) {
	for _, ok := range []map[string]any{
		nil,
		{"toolchain": "pip"},
		{"toolchain": "pip", "virtualenv": "venv"},
		{"toolchain": ""},
	} {
		if _, err := resolveFor(info(t, "/p", "/p", ".", ok), "", "linux", env(nil)); err != nil {
			t.Errorf("options %v: unexpected error %v", ok, err)
		}
	}
	for _, name := range []string{"uv", "poetry", "conda"} {
		_, err := resolveFor(info(t, "/p", "/p", ".", map[string]any{"toolchain": name}), "", "linux", env(nil))
		if err == nil {
			t.Fatalf("toolchain %q was accepted", name)
		}
		for _, part := range []string{"'toolchain: " + name + "'", "not supported", "'toolchain: pip'"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("toolchain %q: error %q does not contain %q", name, err, part)
			}
		}
	}
	_, err := resolveFor(info(t, "/p", "/p", ".", map[string]any{"toolchain": true}), "", "linux", env(nil))
	if err == nil || !strings.Contains(err.Error(), "'toolchain' must be a string") {
		t.Errorf("a non-string toolchain: error %v", err)
	}
}

func TestOtherOptions(t *testing.T) {
	_, err := resolveFor(info(t, "/p", "/p", ".", map[string]any{"typechecker": "mypy"}), "", "linux", env(nil))
	if err == nil || !strings.Contains(err.Error(), "'typechecker: mypy' is not supported") {
		t.Errorf("typechecker: error %v", err)
	}
	_, err = resolveFor(info(t, "/p", "/p", ".", map[string]any{"virtualenv": 3}), "", "linux", env(nil))
	if err == nil || !strings.Contains(err.Error(), "'virtualenv' must be a string") {
		t.Errorf("a non-string virtualenv: error %v", err)
	}
}
