# shellcheck shell=bash
# The shared part of the scripts/ensure-* tools; sourced by them, never run.
#
# Each tool is built once into a cache directory and reused; this file holds what every tool
# does the same way, so that a script keeps only what is its own (which tool, which version,
# how to build and check it):
#   - logging and errors (`log`, `die`), prefixed with the script's name, on stderr: stdout is
#     for the directory the script prints as its last line;
#   - versions (`ensure_version`, `ensure_version_at_least`) and hashes (`ensure_sha256`);
#   - a tool already on PATH (`ensure_use_path_tool`);
#   - the cache (`ensure_init`, `ensure_cache_ok`), the lock and the re-check after it
#     (`ensure_cached_or_lock`), a staging directory inside the cache root, and the atomic finish
#     (`ensure_finish`): a cache directory is either complete (`.complete`) or absent;
#   - Go builds (`ensure_need_go`, `ensure_go_install`) and the "does it start serving" check
#     plugins and language hosts get (`ensure_check_serves`).
#
# Portability: stock macOS has no `flock`, `sha256sum` or `timeout`. The lock falls back to an
# atomic `mkdir` with a pid file (a lock whose holder is gone is taken over), hashing to
# `shasum -a 256` (the same digest, so a cache stays valid whichever tool made it), and the
# timeout to a watchdog process.
#
# A script sets `ensure_files` (the executables the cache directory must hold) and, where the
# build depends on sources in this repository, `ensure_stamp_file` and `ensure_stamp` (a cache
# built from other sources is rebuilt), then calls:
#   ensure_init <cache dir name> [<lock file name>]
#   ensure_cached_or_lock <seconds to wait for another run>   # exits 0 on a cache hit
#   ... build into "$stage/bin" ...
#   ensure_finish                                             # prints "$bin", exits 0

ensure_name="$(basename "$0")"
ensure_files=()
ensure_stamp_file=""
ensure_stamp=""
work=""
ensure_lock_dir=""

log() { printf '%s: %s\n' "$ensure_name" "$*" >&2; }

die() {
	log "$@"
	exit 1
}

# The version a tool reports, without a leading "v" or any suffix ("v3.276.0-dev" -> 3.276.0),
# or nothing when the command fails. Usage: ensure_version <binary> <args that print it>...
ensure_version() {
	local v
	v="$("$@" 2>/dev/null | head -1 || true)"
	v="${v#v}"
	printf '%s' "${v%%[-+ ]*}"
}

# Whether version $2 is at least $1 (an empty $2 is not).
ensure_version_at_least() {
	[ -n "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]
}

# The first 16 hex digits of the SHA-256 of the files, concatenated, in order. Scripts call it
# in $(...), where bash does not apply `set -e`: a file that cannot be read is an explicit
# failure, not a digest of the others.
ensure_sha256() {
	local digest
	if command -v sha256sum >/dev/null 2>&1; then
		digest="$(cat "$@" | sha256sum)" || die "cannot hash $*"
	elif command -v shasum >/dev/null 2>&1; then
		digest="$(cat "$@" | shasum -a 256)" || die "cannot hash $*"
	else
		die "neither sha256sum nor shasum is on PATH; one is needed to tell whether the cache matches this checkout's sources"
	fi
	printf '%s' "${digest:0:16}"
}

# Runs a command, its input /dev/null, for at most $1 seconds (non-zero when it was stopped).
# `timeout` is GNU coreutils; without it a watchdog stops the command. Like `timeout`, it stops
# everything the command started: the command runs as a process group of its own (`set -m`), and
# the group is signalled (stopping only `sh install.sh` would leave the curl that hangs running).
# The watchdog is a group of its own too, so that its `sleep` goes with it, and its output goes
# nowhere: left holding the caller's stdout it would keep a reader waiting until it woke up.
ensure_with_timeout() {
	local seconds="$1" pid dog rc=0
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout "$seconds" "$@" </dev/null
		return
	fi
	# With job control on, bash reports each job's end ("[1]+ Done ...") on its stderr; that
	# goes nowhere, the command's own stderr (fd 3) to the caller's.
	{
		set -m
		"$@" </dev/null 2>&3 &
		pid=$!
		(sleep "$seconds" && kill -TERM -- "-$pid") >/dev/null 2>&1 </dev/null &
		dog=$!
		set +m
		wait "$pid" || rc=$?
		kill -TERM -- "-$dog" 2>/dev/null || true
		wait "$dog" 2>/dev/null || true
	} 3>&2 2>/dev/null
	return "$rc"
}

# Uses a tool on PATH: when `command -v $1` finds it and `$2 <path> <dir>` accepts it, prints
# its directory and exits 0; otherwise says why it is passed over ($3) and returns.
ensure_use_path_tool() {
	local found dir
	found="$(command -v "$1" 2>/dev/null)" || return 0
	dir="$(cd "$(dirname "$found")" && pwd)"
	if "$2" "$found" "$dir"; then
		echo "$dir"
		exit 0
	fi
	log "ignoring $found: $3"
}

# Names the cache directory ($1, under the cache root) and the lock file ($2, by default
# ".lock-$1"). Sets cache_root, target and bin.
ensure_init() {
	cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/nodion-pulumi"
	target="$cache_root/$1"
	bin="$target/bin"
	ensure_lock_file="$cache_root/${2:-.lock-$1}"
}

ensure_cache_ok() {
	local f
	[ -f "$target/.complete" ] || return 1
	for f in "${ensure_files[@]}"; do
		[ -x "$bin/$f" ] || return 1
	done
	[ -z "$ensure_stamp_file" ] || [ "$(cat "$target/$ensure_stamp_file" 2>/dev/null)" = "$ensure_stamp" ]
}

# Removes what this run leaves behind: its build directory and, for the mkdir lock, the lock
# (flock's lock goes with the process).
ensure_cleanup() {
	if [ -n "$work" ]; then
		rm -rf "$work"
		rmdir "$(dirname "$work")" 2>/dev/null || true
	fi
	if [ -n "$ensure_lock_dir" ] && [ "$(cat "$ensure_lock_dir/pid" 2>/dev/null)" = "$$" ]; then
		rm -rf "$ensure_lock_dir"
	fi
}
trap ensure_cleanup EXIT
# An interrupted run cleans up too (bash runs the EXIT trap on `exit`, not on a fatal signal).
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_pid_alive() {
	kill -0 "$1" 2>/dev/null || ps -p "$1" >/dev/null 2>&1
}

# Whether the mkdir lock $1, whose pid file read $2, is abandoned: its holder is gone, or it
# has had no pid for over a minute (the holder is between mkdir and writing it, or was killed
# there; a fresh lock without a pid is a run that is taking it now).
ensure_lock_abandoned() {
	if [ -n "$2" ]; then
		! ensure_pid_alive "$2"
	else
		[ -n "$(find "$1" -maxdepth 0 -mmin +1 2>/dev/null)" ]
	fi
}

# Takes the lock named by ensure_init, waiting at most $1 seconds; non-zero on timeout. A run
# that has to wait says so once, naming the holder, since a build can hold it for many minutes.
# With `flock`, the kernel lock on the file (what these scripts have always used, so an older
# checkout's run and this one still exclude each other). Without it, the directory
# "<lock file>.d", which `mkdir` creates atomically, holding the holder's pid: a lock whose
# holder is gone (killed before its EXIT trap ran) is removed by whichever waiter first takes
# "<lock file>.d.break". That waiter decides again once it holds ".break": between its first
# look and then, another waiter may have removed that lock and a new run taken the lock, and a
# new lock (a live pid, or none yet but young) is never removed. (BSD `lockf` is not used: it
# runs a command under the lock rather than locking for the rest of this script, except on
# FreeBSD 14.)
ensure_lock() {
	local seconds="$1" lock_dir="$ensure_lock_file.d" holder deadline said=""
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$ensure_lock_file"
		flock -n 9 && return 0
		log "waiting for another $ensure_name, which holds the lock $ensure_lock_file"
		flock -w "$seconds" 9
		return
	fi
	deadline=$((SECONDS + seconds))
	while :; do
		if mkdir "$lock_dir" 2>/dev/null; then
			ensure_lock_dir="$lock_dir"
			echo "$$" >"$lock_dir/pid"
			return 0
		fi
		holder="$(cat "$lock_dir/pid" 2>/dev/null || true)"
		if ensure_lock_abandoned "$lock_dir" "$holder" && mkdir "$lock_dir.break" 2>/dev/null; then
			holder="$(cat "$lock_dir/pid" 2>/dev/null || true)"
			if [ -d "$lock_dir" ] && ensure_lock_abandoned "$lock_dir" "$holder"; then
				log "taking over the lock of a run that is gone (pid ${holder:-unknown})"
				rm -rf "$lock_dir"
			fi
			rmdir "$lock_dir.break"
			continue
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "the lock $lock_dir is held by pid ${holder:-unknown}; remove it (and $lock_dir.break, if there) if no $ensure_name is running"
			return 1
		fi
		if [ -z "$said" ]; then
			log "waiting for pid ${holder:-unknown}, which holds the lock $lock_dir"
			said=1
		fi
		sleep 1
	done
}

# A cache hit prints "$bin" and exits 0. Otherwise takes the lock (waiting at most $1 seconds
# for another run building the same tool), checks the cache again (that run may have finished
# it), and makes "$work", a build directory in the cache root (so the final `mv` is a rename on
# one file system), with "$stage/bin" to build into.
ensure_cached_or_lock() {
	if ensure_cache_ok; then
		echo "$bin"
		exit 0
	fi
	mkdir -p "$cache_root"
	ensure_lock "$1" || die "timed out waiting for another $ensure_name to finish"
	if ensure_cache_ok; then
		echo "$bin"
		exit 0
	fi
	# A run killed outright (kill -9, the OOM killer, a reboot) runs no EXIT trap and leaves its
	# build directory behind. Build directories live under one directory per cache directory,
	# and the lock for that cache directory is held now, so whatever is in it is such a leftover.
	rm -rf "$cache_root/.build-${target##*/}"
	mkdir "$cache_root/.build-${target##*/}"
	work="$(mktemp -d "$cache_root/.build-${target##*/}/XXXXXX")"
	stage="$work/stage"
	mkdir -p "$stage/bin"
	ensure_started=$SECONDS
}

# Moves the stage into place as the cache directory, prints "$bin" and exits 0. The stage is
# marked complete before the move, and the move is a rename under the lock, so no reader ever
# sees a cache directory without all of its files. $1 says what happened ("built" by default).
ensure_finish() {
	if [ -n "$ensure_stamp_file" ]; then
		echo "$ensure_stamp" >"$stage/$ensure_stamp_file"
	fi
	touch "$stage/.complete"
	rm -rf "$target"
	mv "$stage" "$target"
	log "${1:-built} in $((SECONDS - ensure_started)) s: $bin"
	echo "$bin"
	exit 0
}

# Go builds: Go itself is the one tool a build needs that a machine may lack. GOTOOLCHAIN=local
# keeps Go from downloading another toolchain when a module asks for a newer `go`.
ensure_need_go() {
	command -v go >/dev/null 2>&1 || die "Go is required to build $1 (https://go.dev/dl/)"
	export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
}

# `go install <package>@<version>` into the stage. Usage: ensure_go_install <ldflags> <pkg@v>.
# Only for modules whose go.mod has no replace directives (`go install` refuses those).
ensure_go_install() {
	GOBIN="$stage/bin" GOFLAGS="-mod=mod -trimpath" go install -ldflags "$1" "$2" >&2
}

# Fails unless version $2 (what the built tool reports) is $3. $1 names the tool.
ensure_expect_version() {
	[ "$2" = "$3" ] || die "the built $1 reports version '${2:-nothing}', not $3"
}

# Plugins and language hosts have no --version: check that the binary starts serving. With no
# engine address they listen at once and print their port, as they do for the engine.
ensure_check_serves() {
	local serving
	"$1" >"$work/serve.out" 2>"$work/serve.err" &
	serving=$!
	for _ in $(seq 1 150); do
		[ -s "$work/serve.out" ] && break
		sleep 0.2
	done
	kill "$serving" 2>/dev/null || true
	wait "$serving" 2>/dev/null || true
	grep -qE '^[0-9]+$' "$work/serve.out" ||
		die "the built $(basename "$1") did not start serving: $(tail -c 2000 "$work/serve.err")"
}
