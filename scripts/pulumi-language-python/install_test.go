package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeBasePython stands in for python3: `-m venv DIR` makes DIR a virtualenv whose python
// prints what it was asked, records its working directory, VIRTUAL_ENV and arguments in $LOG,
// and exits with $PIP_EXIT. Anything else fails, so an unexpected call shows.
const fakeBasePython = `#!/bin/sh
[ "$1 $2" = "-m venv" ] || { echo "unexpected: $*" >&2; exit 9; }
mkdir -p "$3/bin"
cat >"$3/bin/python" <<'EOS'
#!/bin/sh
echo "pip output: $*"
echo "pip warning" >&2
printf '%s|%s|%s\n' "$PWD" "$VIRTUAL_ENV" "$*" >>"$LOG"
exit "${PIP_EXIT:-0}"
EOS
chmod +x "$3/bin/python"
echo "venv made"
`

type installFixture struct {
	program, venv, log, base string
	stdout, stderr           bytes.Buffer
}

func newInstallFixture(t *testing.T, requirements bool) *installFixture {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake interpreters are shell scripts")
	}
	dir := t.TempDir()
	f := &installFixture{
		program: filepath.Join(dir, "project"),
		venv:    filepath.Join(dir, "project", "venv"),
		log:     filepath.Join(dir, "calls.log"),
		base:    filepath.Join(dir, "python3"),
	}
	if err := os.MkdirAll(f.program, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.base, []byte(fakeBasePython), 0o755); err != nil {
		t.Fatal(err)
	}
	if requirements {
		if err := os.WriteFile(filepath.Join(f.program, "requirements.txt"), []byte("pulumi\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *installFixture) run(t *testing.T, extraEnv ...string) error {
	t.Helper()
	l := mustResolve(t, info(t, f.program, f.program, ".", map[string]any{"virtualenv": "venv"}), "", runtime.GOOS,
		map[string]string{"PULUMI_PYTHON_CMD": f.base})
	environ := append([]string{"PATH=" + os.Getenv("PATH"), "LOG=" + f.log}, extraEnv...)
	getenv := env(map[string]string{"PULUMI_PYTHON_CMD": f.base})
	return installDependencies(context.Background(), l, environ, getenv, &f.stdout, &f.stderr)
}

func (f *installFixture) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestInstallCreatesVirtualenvAndInstallsRequirements(t *testing.T) {
	f := newInstallFixture(t, true)
	if err := f.run(t); err != nil {
		t.Fatalf("installDependencies: %v\nstdout:\n%s\nstderr:\n%s", err, &f.stdout, &f.stderr)
	}
	want := f.program + "|" + f.venv + "|-m pip install -r requirements.txt"
	if calls := f.calls(t); len(calls) != 1 || calls[0] != want {
		t.Errorf("pip calls = %q, want [%q]", calls, want)
	}
	for _, part := range []string{"venv made", "pip output: -m pip install -r requirements.txt"} {
		if !strings.Contains(f.stdout.String(), part) {
			t.Errorf("stdout does not stream %q:\n%s", part, &f.stdout)
		}
	}
	if !strings.Contains(f.stderr.String(), "pip warning") {
		t.Errorf("stderr does not stream pip's:\n%s", &f.stderr)
	}
}

func TestInstallReusesExistingVirtualenv(t *testing.T) {
	f := newInstallFixture(t, true)
	l := mustResolve(t, info(t, f.program, f.program, ".", map[string]any{"virtualenv": "venv"}), "", runtime.GOOS, nil)
	if err := l.ready(); err == nil || !strings.Contains(err.Error(), "run `pulumi install`") {
		t.Errorf("before the install, ready() = %v, want advice to run `pulumi install`", err)
	}
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	// A base interpreter that fails proves the second run does not create the virtualenv again.
	if err := os.WriteFile(f.base, []byte("#!/bin/sh\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.run(t); err != nil {
		t.Fatalf("second install: %v\n%s", err, &f.stderr)
	}
	if calls := f.calls(t); len(calls) != 2 {
		t.Errorf("pip calls = %q, want two", calls)
	}
	if err := l.ready(); err != nil {
		t.Errorf("after the install, ready() = %v", err)
	}
}

func TestInstallWithoutRequirementsOnlyCreatesVirtualenv(t *testing.T) {
	f := newInstallFixture(t, false)
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if !isVirtualenv(f.venv, runtime.GOOS) {
		t.Errorf("no virtualenv at %s", f.venv)
	}
	if calls := f.calls(t); calls != nil {
		t.Errorf("pip ran without a requirements.txt: %q", calls)
	}
	if !strings.Contains(f.stdout.String(), "No requirements.txt") {
		t.Errorf("stdout does not say there was nothing to install:\n%s", &f.stdout)
	}
}

func TestInstallReportsPipFailure(t *testing.T) {
	f := newInstallFixture(t, true)
	err := f.run(t, "PIP_EXIT=3")
	if err == nil {
		t.Fatal("a failing pip was reported as success")
	}
	for _, part := range []string{"-m pip install -r requirements.txt", "exit status 3", f.program} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestInstallRefusesVirtualenvThatIsAFile(t *testing.T) {
	f := newInstallFixture(t, true)
	if err := os.WriteFile(f.venv, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := f.run(t)
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("error = %v, want one saying the virtualenv is not a directory", err)
	}
}
