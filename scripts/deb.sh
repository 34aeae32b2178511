#!/bin/sh
# deb.sh: builds the Debian package (make deb): quarry_VERSION_ARCH.deb,
# with its .buildinfo and .changes, in build/deb/.
#
# dpkg-buildpackage -us -uc -b runs on a clean copy of the source tree in
# a temporary directory, so that the build products of this tree (bin/,
# cgi-bin/, build/) neither leak into the package nor get cleaned away.
# The copy holds what git knows of the working tree: tracked files as
# they are now, and new files git does not ignore.  DEB_FROM=HEAD copies
# the last commit instead (git archive).  Outside a git checkout, the
# tree without bin/, cgi-bin/, build/ and var/.
#
# DEB_BUILD_OPTIONS is passed on as it is, with parallel=N (the number of
# cores) added when it names none.

set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd -P)
OUTDIR=$TOP/build/deb
PROG=deb.sh

die() {
	echo "$PROG: $*" >&2
	exit 1
}

for c in dpkg-buildpackage dpkg-parsechangelog dh fakeroot; do
	command -v "$c" >/dev/null 2>&1 ||
	    die "$c is missing (make deps installs dpkg-dev, debhelper and" \
	    "fakeroot)"
done

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
upstream=${version%-*}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quarry-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
src=$tmp/quarry-$upstream
mkdir "$src"

if [ "${DEB_FROM:-}" = HEAD ]; then
	git archive --format=tar HEAD | tar -x -C "$src"
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Files that exist: a deleted tracked file is not copied.
	git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] &&
	    printf "%s\0" "$f"; done; exit 0' sh |
	    tar --null -T - -c -f - | tar -x -C "$src"
else
	tar -c -f - --exclude=./bin/quarryd --exclude=./bin/quarryctl \
	    --exclude='./cgi-bin/*.fcgi' --exclude=./build --exclude=./var \
	    . | tar -x -C "$src"
fi
[ -f "$src/debian/rules" ] || die "no debian/rules in the copy"

opts=${DEB_BUILD_OPTIONS:-}
case " $opts " in
*" parallel="*) ;;
*) opts="${opts:+$opts }parallel=$(nproc 2>/dev/null || echo 1)" ;;
esac

echo "$PROG: building quarry $version in $src (DEB_BUILD_OPTIONS=$opts)"
(cd "$src" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage -us -uc -b) ||
    die "dpkg-buildpackage failed"

mkdir -p "$OUTDIR"
n=0
for f in "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes; do
	[ -e "$f" ] || continue
	mv -f "$f" "$OUTDIR/"
	n=$((n + 1))
done
[ -n "$(ls "$OUTDIR"/quarry_"$version"_*.deb 2>/dev/null)" ] ||
    die "dpkg-buildpackage made no quarry_${version}_*.deb"
ls -l "$OUTDIR"/quarry_"$version"_*.deb
