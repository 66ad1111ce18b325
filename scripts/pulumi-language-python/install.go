package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// installDependencies does what the official host does for `toolchain: pip`: it creates the
// configured virtualenv with the default interpreter when the directory holds none, then runs
// `python -m pip install -r requirements.txt` in the program directory with the virtualenv's
// interpreter (or the default one when no virtualenv is configured, like the official host).
// Unlike the official host it does not first upgrade pip, setuptools and wheel: requirements.txt
// says what the program needs, and a project that wants newer tools can list them there.
func installDependencies(
	ctx context.Context, l launch, environ []string, getenv func(string) string, stdout, stderr io.Writer,
) error {
	if l.virtualenv != "" && !isVirtualenv(l.virtualenv, l.goos) {
		if info, err := os.Stat(l.virtualenv); err == nil && !info.IsDir() {
			return fmt.Errorf("the runtime option 'virtualenv' names %s, which is not a directory", l.virtualenv)
		}
		base := defaultPython(l.goos, getenv)
		fmt.Fprintf(stdout, "Creating virtual environment %s with %s...\n", l.virtualenv, base)
		create := exec.CommandContext(ctx, base, "-m", "venv", l.virtualenv)
		create.Dir = l.programDir
		create.Env = environ
		create.Stdout, create.Stderr = stdout, stderr
		if err := create.Run(); err != nil {
			return fmt.Errorf("creating the virtual environment %s with '%s -m venv': %w", l.virtualenv, base, err)
		}
		if !isVirtualenv(l.virtualenv, l.goos) {
			return fmt.Errorf("'%s -m venv %s' succeeded but left no %s",
				base, l.virtualenv, virtualenvPython(l.virtualenv, l.goos))
		}
	}

	requirements := filepath.Join(l.programDir, "requirements.txt")
	if _, err := os.Stat(requirements); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "No requirements.txt in %s: nothing to install.\n", l.programDir)
		return nil
	}

	args := []string{"-m", "pip", "install", "-r", "requirements.txt"}
	fmt.Fprintf(stdout, "Installing dependencies: %s %s\n", l.python, strings.Join(args, " "))
	pip := exec.CommandContext(ctx, l.python, args...)
	pip.Dir = l.programDir
	pip.Env = l.environment(environ)
	pip.Stdout, pip.Stderr = stdout, stderr
	if err := pip.Run(); err != nil {
		return fmt.Errorf("installing dependencies with '%s %s' in %s: %w",
			l.python, strings.Join(args, " "), l.programDir, err)
	}
	fmt.Fprintln(stdout, "Finished installing dependencies.")
	return nil
}

// lockedWriter serialises writes that share one underlying sink.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
