#!/bin/sh
# Fetch libsodium (inside the pinned PyNaCl sdist), verify its checksum and
# unpack the libsodium tree into DEST/libsodium. Idempotent: when DEST already
# holds this version it changes nothing (not even timestamps), so make does
# not rebuild libsodium.
# usage: fetch_libsodium.sh PYTHON DEST_DIR
set -eu
PYTHON=$1
DEST=$2
VERSION=1.6.2
SHA256=018494d6d696ae03c7e656e5e74cdfd8ea1326962cc401bcf018f1ed8436811c
TARBALL="$DEST/pynacl-$VERSION.tar.gz"
STAMP="$DEST/libsodium.version"
WANT="pynacl $VERSION $SHA256"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -f "$DEST/libsodium/configure" ]; then
    exit 0
fi
mkdir -p "$DEST"
if [ ! -f "$TARBALL" ]; then
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
        "pynacl==$VERSION" -d "$DEST"
fi
if ! echo "$SHA256  $TARBALL" | sha256sum -c --quiet - >/dev/null 2>&1; then
    echo "fetch_libsodium: checksum mismatch for $TARBALL (expected $SHA256)" >&2
    rm -f "$TARBALL"
    exit 1
fi
rm -rf "$DEST/libsodium" "$DEST/libsodium.tmp"
mkdir -p "$DEST/libsodium.tmp"
tar -xzf "$TARBALL" -C "$DEST/libsodium.tmp" --strip-components=3 \
    "pynacl-$VERSION/src/libsodium"
mv "$DEST/libsodium.tmp" "$DEST/libsodium"
echo "$WANT" > "$STAMP"
