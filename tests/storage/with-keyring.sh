#!/bin/sh
# Runs a test inside a private D-Bus session with an unlocked gnome-keyring, i.e. a real
# Secret Service, in a throwaway home directory. Usage: with-keyring.sh COMMAND [ARGS...]
set -eu
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/runtime"
export HOME="$scratch" XDG_RUNTIME_DIR="$scratch/runtime" XDG_DATA_HOME="$scratch/data"
dbus-run-session -- sh -c '
    printf "switchyard-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    SWITCHYARD_TEST_KEYRING=1 "$@"
' sh "$@"
