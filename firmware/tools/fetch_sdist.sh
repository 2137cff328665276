#!/bin/sh
# Fetch a pinned PyPI source distribution, verify its sha256 and unpack the
# named members of it into DEST/OUT. Idempotent: when DEST/OUT.version already
# names this package, version and checksum it changes nothing (not even
# timestamps), so make does not rebuild what was built from it.
# usage: fetch_sdist.sh PYTHON DEST OUT PACKAGE VERSION SHA256 STRIP MEMBER...
#   STRIP    leading path components dropped from the members (tar --strip-components)
#   MEMBER   paths inside the sdist to unpack (files or directories)
set -eu
if [ $# -lt 8 ]; then
    echo "usage: fetch_sdist.sh PYTHON DEST OUT PACKAGE VERSION SHA256 STRIP MEMBER..." >&2
    exit 2
fi
PYTHON=$1 DEST=$2 OUT=$3 PACKAGE=$4 VERSION=$5 SHA256=$6 STRIP=$7
shift 7
TARBALL="$DEST/$PACKAGE-$VERSION.tar.gz"
STAMP="$DEST/$OUT.version"
WANT="$PACKAGE $VERSION $SHA256"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -d "$DEST/$OUT" ]; then
    exit 0
fi
mkdir -p "$DEST"
if [ ! -f "$TARBALL" ]; then
    echo "fetch_sdist: downloading $PACKAGE $VERSION from PyPI"
    "$PYTHON" "$(dirname "$0")/pypi_sdist.py" "$PACKAGE" "$VERSION" "$SHA256" "$TARBALL"
fi
if ! echo "$SHA256  $TARBALL" | sha256sum -c --quiet - >/dev/null 2>&1; then
    echo "fetch_sdist: checksum mismatch for $TARBALL (expected $SHA256); deleted it" >&2
    rm -f "$TARBALL"
    exit 1
fi
rm -rf "$DEST/$OUT" "$DEST/$OUT.tmp"
mkdir -p "$DEST/$OUT.tmp"
tar -xzf "$TARBALL" -C "$DEST/$OUT.tmp" --strip-components="$STRIP" "$@"
mv "$DEST/$OUT.tmp" "$DEST/$OUT"
echo "$WANT" > "$STAMP"
