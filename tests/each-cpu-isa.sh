#!/usr/bin/env sh
# Runs the tests that use the real speech model once for each CPU code path CTranslate2 offers on this
# machine (GENERIC, AVX, AVX2, AVX512 where the processor has it), forced with CT2_FORCE_CPU_ISA.
#
# The engine's exact words depend on the code path it runs (a borderline word comes out differently
# on another processor); a test that passes under every path here asserts only what survives a change
# of processor. Run it before landing a change to a test that uses the engine:
#
#   sh tests/each-cpu-isa.sh                # every path this processor has
#   sh tests/each-cpu-isa.sh AVX2 GENERIC   # only these
#   PYTEST_ARGS="-x tests/test_worker.py" sh tests/each-cpu-isa.sh
#
# Uses .venv/bin/python (made by the README's test command). Exits non-zero when any path failed.
set -u
cd "$(dirname "$0")/.."
python=.venv/bin/python
[ -x "$python" ] || { echo "each-cpu-isa.sh: $python not found: run the README's test command once first" >&2; exit 2; }
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { case " $flags " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if [ "$#" -gt 0 ]; then
  paths="$*"
else
  paths="GENERIC"
  has avx && paths="$paths AVX"
  has avx2 && paths="$paths AVX2"
  has avx512f && has avx512bw && paths="$paths AVX512"
fi
failed=""
for isa in $paths; do
  echo "== CT2_FORCE_CPU_ISA=$isa"
  # shellcheck disable=SC2086 # PYTEST_ARGS is meant to be split
  if ! CT2_FORCE_CPU_ISA=$isa "$python" -m pytest -q -m engine -p no:cacheprovider ${PYTEST_ARGS:-}; then
    failed="$failed $isa"
  fi
done
if [ -n "$failed" ]; then
  echo "each-cpu-isa.sh: the engine tests failed under:$failed" >&2
  exit 1
fi
echo "each-cpu-isa.sh: the engine tests passed under: $paths"
