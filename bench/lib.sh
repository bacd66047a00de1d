# Shared by the bench scripts (sourced, not run).

# need_pkg TEST PACKAGE: unless the shell test TEST succeeds, install the
# Debian package PACKAGE with apt-get (through sudo when not root).
need_pkg() {
	if ! eval "$1" >/dev/null 2>&1; then
		echo "$(basename "$0"): installing $2" >&2
		if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
		$sudo apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >&2
	fi
}
