package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// launch is everything the host decides before starting Python for a request: one place, so
// that programs, plugins (policy packs) and dependency installation never disagree on which
// interpreter or which program they mean.
type launch struct {
	// python is the interpreter to start: a path inside the virtualenv, or a command name.
	python string
	// program is the path handed to the exec shim (or to Python, for a plugin): a directory,
	// whose __main__.py runs, or a file.
	program string
	// programDir is where the program lives; requirements.txt is looked for there.
	programDir string
	// virtualenv is the absolute path of the configured virtualenv, empty without the option.
	virtualenv string
	// goos is the operating system the paths were computed for.
	goos string
}

// runtimeOptions are the `runtime.options` of Pulumi.yaml (or PulumiPolicy.yaml) this host
// understands.
type runtimeOptions struct {
	virtualenv string
}

// supportedToolchain is the only `toolchain` this host implements. The official host also
// drives uv and poetry; silently running such a project with pip would use the wrong
// environment, so those are refused with a message saying what to do instead.
const supportedToolchain = "pip"

// parseOptions reads the runtime options, refusing the ones this host cannot honour rather
// than ignoring them.
func parseOptions(opts *structpb.Struct) (runtimeOptions, error) {
	var parsed runtimeOptions
	fields := opts.GetFields()

	if v, ok := fields["toolchain"]; ok {
		toolchain, isString := v.GetKind().(*structpb.Value_StringValue)
		if !isString {
			return parsed, fmt.Errorf("the runtime option 'toolchain' must be a string; "+
				"this Python language host supports only %q", supportedToolchain)
		}
		if name := toolchain.StringValue; name != "" && name != supportedToolchain {
			return parsed, fmt.Errorf("the runtime option 'toolchain: %s' is not supported by this Python "+
				"language host (it supports only 'toolchain: %s', which is also what no 'toolchain' "+
				"option means): remove the option, or set 'toolchain: %s' with 'virtualenv: <dir>' and "+
				"install requirements.txt there (`pulumi install` does)",
				name, supportedToolchain, supportedToolchain)
		}
	}

	// The official host can type-check the program before running it; this one cannot, and a
	// check that silently never runs is worse than a clear refusal.
	if v, ok := fields["typechecker"]; ok {
		if _, isString := v.GetKind().(*structpb.Value_StringValue); !isString {
			return parsed, fmt.Errorf("the runtime option 'typechecker' must be a string")
		}
		if name := v.GetStringValue(); name != "" {
			return parsed, fmt.Errorf("the runtime option 'typechecker: %s' is not supported by this Python "+
				"language host: remove the option and run the type checker yourself", name)
		}
	}

	if v, ok := fields["virtualenv"]; ok {
		venv, isString := v.GetKind().(*structpb.Value_StringValue)
		if !isString {
			return parsed, fmt.Errorf("the runtime option 'virtualenv' must be a string (a directory)")
		}
		parsed.virtualenv = venv.StringValue
	}
	return parsed, nil
}

// resolve decides how to run the program a request names. info is the request's ProgramInfo
// (nil from older engines, which send only legacyProgram, a path or directory).
func resolve(info *pulumirpc.ProgramInfo, legacyProgram string) (launch, error) {
	return resolveFor(info, legacyProgram, runtime.GOOS, os.Getenv)
}

// resolveFor is resolve with the operating system and the environment as parameters, so that
// tests can check the Windows layout and the PULUMI_PYTHON_CMD fallback on any machine.
func resolveFor(
	info *pulumirpc.ProgramInfo, legacyProgram, goos string, getenv func(string) string,
) (launch, error) {
	l := launch{goos: goos}
	if info == nil {
		l.program = legacyProgram
		if l.program == "" {
			l.program = "."
		}
		l.programDir = l.program
		if !isDirectory(l.program) {
			l.programDir = filepath.Dir(l.program)
		}
		l.python = defaultPython(goos, getenv)
		return l, nil
	}

	opts, err := parseOptions(info.GetOptions())
	if err != nil {
		return launch{}, err
	}
	l.programDir = info.GetProgramDirectory()
	l.program = programPath(l.programDir, info.GetEntryPoint())
	if l.programDir == "" {
		l.programDir = "."
	}
	if opts.virtualenv != "" {
		// As with the official host, a relative virtualenv is relative to the project root
		// (where Pulumi.yaml is), not to the program directory `main` may point into.
		root := info.GetRootDirectory()
		if root == "" {
			root = l.programDir
		}
		l.virtualenv = opts.virtualenv
		if !filepath.IsAbs(l.virtualenv) {
			l.virtualenv = filepath.Join(root, l.virtualenv)
		}
		l.python = virtualenvPython(l.virtualenv, goos)
	} else {
		l.python = defaultPython(goos, getenv)
	}
	return l, nil
}

// programPath joins the program directory and the entry point the engine derived from
// `main` in Pulumi.yaml: "." (or nothing) names the directory, whose __main__.py the shim runs
// (runpy does the same as `python <dir>`), anything else a file in it.
func programPath(programDir, entryPoint string) string {
	if entryPoint == "" {
		entryPoint = "."
	}
	if programDir == "" {
		return entryPoint
	}
	return filepath.Join(programDir, entryPoint)
}

// virtualenvBinDir is where a virtualenv keeps its executables: Scripts on Windows.
func virtualenvBinDir(venv, goos string) string {
	if goos == "windows" {
		return filepath.Join(venv, "Scripts")
	}
	return filepath.Join(venv, "bin")
}

// virtualenvPython is the interpreter of a virtualenv (Scripts\python.exe on Windows).
func virtualenvPython(venv, goos string) string {
	if goos == "windows" {
		return filepath.Join(virtualenvBinDir(venv, goos), "python.exe")
	}
	return filepath.Join(virtualenvBinDir(venv, goos), "python")
}

// defaultPython is the interpreter without a virtualenv: PULUMI_PYTHON_CMD, else python3
// (python on Windows, where the python.org installer has no python3).
func defaultPython(goos string, getenv func(string) string) string {
	if cmd := getenv("PULUMI_PYTHON_CMD"); cmd != "" {
		return cmd
	}
	if goos == "windows" {
		return "python"
	}
	return "python3"
}

// isVirtualenv reports whether dir holds a virtualenv's interpreter.
func isVirtualenv(dir, goos string) bool {
	info, err := os.Stat(virtualenvPython(dir, goos))
	return err == nil && !info.IsDir()
}

func pathListSeparator(goos string) string {
	if goos == "windows" {
		return ";"
	}
	return ":"
}

func isDirectory(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// ready reports a configured virtualenv without an interpreter in words the user can act on,
// instead of the bare "no such file" that starting its python would give.
func (l launch) ready() error {
	if l.virtualenv != "" && !isVirtualenv(l.virtualenv, l.goos) {
		return fmt.Errorf("the runtime option 'virtualenv' names %s, which holds no %s: "+
			"run `pulumi install` to create it and install requirements.txt into it",
			l.virtualenv, virtualenvPython(l.virtualenv, l.goos))
	}
	return nil
}

// environment is the child's environment: environ with the virtualenv activated, as its
// activate script would (its bin directory first on PATH, VIRTUAL_ENV set, PYTHONHOME
// dropped), so that tools the program starts (pip, python) are the virtualenv's too.
func (l launch) environment(environ []string) []string {
	if l.virtualenv == "" {
		return environ
	}
	bin := virtualenvBinDir(l.virtualenv, l.goos)
	env := make([]string, 0, len(environ)+2)
	hasPath := false
	for _, kv := range environ {
		key, value, _ := strings.Cut(kv, "=")
		switch {
		case strings.EqualFold(key, "PYTHONHOME"), strings.EqualFold(key, "VIRTUAL_ENV"):
			continue
		case strings.EqualFold(key, "PATH"): // Windows spells it Path
			hasPath = true
			kv = key + "=" + bin + pathListSeparator(l.goos) + value
		}
		env = append(env, kv)
	}
	if !hasPath {
		env = append(env, "PATH="+bin)
	}
	return append(env, "VIRTUAL_ENV="+l.virtualenv)
}
