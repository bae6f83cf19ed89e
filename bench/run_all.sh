#!/usr/bin/env bash
# Every bench script, one after another.
#
#   bench/run_all.sh           # `make bench`: full sizes, then every goal line (meets or MISSES)
#   bench/run_all.sh --smoke   # `make bench-smoke` (CI): tiny sizes, seconds each, no goals checked
#
# A new bench/*.py must be listed below (or named a helper): the script refuses to run
# otherwise, so CI notices a bench that is never run. Exit status 1 when a script fails; with
# full sizes, also when any goal MISSES. load.sh is not run here (see `make bench-load`).
# Bench databases get the suffix $BENCH_DB_SUFFIX (default "_smoke" for --smoke), so a CI run
# never drops a database someone's full-size bench is using.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
smoke=0
[[ ${1:-} == --smoke ]] && smoke=1 && export BENCH_DB_SUFFIX=${BENCH_DB_SUFFIX:-_smoke}
# The scripts that serve pages collect static files into their own directory, so a test suite
# running alongside (CI) keeps reading the repository's staticfiles/ undisturbed.
if [[ -z ${STATIC_ROOT:-} ]]; then
  STATIC_ROOT=$(mktemp -d -t palimpsest-bench-static.XXXXXX)
  export STATIC_ROOT
  own_static=$STATIC_ROOT
fi
OPP115=${OPP115:-../shared/opp115-excerpt}
[[ -d $OPP115 ]] || OPP115=annotations/tests/data/opp115

HELPERS=" benchdb.py corpus.py goals.py load_report.py scale_chart.py "
# script | full-size arguments | smoke arguments ("-": not run at smoke size, another line of
# the same script covers it)
BENCHES=(
  "agreement.py||--runs 1 --segments 200"
  "diff.py||--runs 1 --quick"
  "lineage_eval.py||--companies mullvad.net"
  "lineage_eval.py|--cases annotations/tests/data/lineage_heldout.yaml|-"
  "annotations.py|--runs 9|--runs 2 --smoke"
  "pages.py||--runs 2"
  "opp115.py|$OPP115 --policies 115 --runs 3|$OPP115 --policies 3 --runs 1"
  "import.py|--companies 200 --words 1300 --runs 3|-"
  "import.py|--companies 200 --words 1300 --runs 3 --identical 0.15|-"
  "import.py|--companies 100 400|--companies 2 3 --captures 3 --identical 0.15"
  "search.py||-"
  "search.py|--identical 0.15|--companies 10 --captures 5 --queries 2 --runs 1 --identical 0.15"
  "export.py|--rows 1000000 --runs 3|--rows 2000 --runs 1"
  "suggestions.py||--companies 5 --captures 3 --tags 10 --runs 2"
  "suggester.py|$OPP115 --policies 115 --runs 3|$OPP115 --policies 3 --runs 1"
  "trends.py||--companies 10 --captures 4 --runs 1"
  "api.py||--companies 10 --captures 4 --tags 200 --runs 2"
  "adjudicate.py|--runs 21|--sections 10 --runs 2"
  "scale.py||--smoke"
)

listed=" "
for bench in "${BENCHES[@]}"; do listed+="${bench%%|*} "; done
for path in bench/*.py; do
  name=${path#bench/}
  if [[ $HELPERS != *" $name "* && $listed != *" $name "* ]]; then
    echo "bench/run_all.sh: $path is neither listed in BENCHES nor a helper" >&2
    exit 2
  fi
done

log=$(mktemp)
trap 'rm -f "$log"; [[ -n ${own_static:-} ]] && rm -rf "$own_static"' EXIT
failed=()
for bench in "${BENCHES[@]}"; do
  IFS='|' read -r script full quick <<<"$bench"
  arguments=$([[ $smoke == 1 ]] && echo "$quick" || echo "$full")
  [[ $arguments == - ]] && continue
  echo "=== bench/$script $arguments (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$log"
  started=$SECONDS
  # shellcheck disable=SC2086 # the arguments are words
  if ! $PY "bench/$script" $arguments 2>&1 | tee -a "$log"; then
    failed+=("bench/$script $arguments")
  fi
  echo "--- $((SECONDS - started)) s"
done

echo
if [[ $smoke == 0 ]]; then
  echo "=== goals (commit $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg))"
  grep -E '^goal \||\((meets|MISSES)\)' "$log"
fi
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
if [[ $smoke == 0 ]] && grep -qE '^goal \|.*MISSES$|\(MISSES\)' "$log"; then
  exit 1
fi
echo "every bench script ran$([[ $smoke == 1 ]] && echo " (smoke sizes)")"
