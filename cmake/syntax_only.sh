#!/bin/sh
# The compiler launcher of a syntax-checked program (hush_program, CMakeLists.txt): runs the
# compile, which has -fsyntax-only and so writes no object, then leaves an empty one, so that
# make sees the unit done and checks it again only when its sources change.
out=
prev=
for arg in "$@"; do
  [ "$prev" = -o ] && out=$arg
  prev=$arg
done
"$@" && : >"$out"
