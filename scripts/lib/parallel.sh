# Sourced by the workstation runners (scripts/ablation, ga-vs-random, nb201-study), which run
# PARALLEL searches at once with THREADS torch threads each.
# check_parallel NAME: PARALLEL and THREADS must be positive integers (else exit 2, naming them);
# warns when together they ask for more threads than the CPUs this shell may run on. PyPI's
# libtorch (the CUDA build) runs OpenMP threads that spin while they wait: two 2-thread searches on
# 2 CPUs ran about 10x slower than one after the other.
check_parallel() {
  local name="$1" v cpus
  for v in PARALLEL THREADS; do
    case "${!v}" in
      ''|*[!0-9]*|0) echo "$name: $v must be a positive integer, got '${!v}'" >&2; exit 2 ;;
    esac
  done
  cpus=$(nproc)
  if [ $((PARALLEL * THREADS)) -gt "$cpus" ]; then
    echo "$name: WARNING: PARALLEL=$PARALLEL runs x THREADS=$THREADS threads = $((PARALLEL * THREADS)) threads" \
         "on $cpus CPU(s): the threads will wait on each other and every run will be slower; give" \
         "THREADS=$((cpus / PARALLEL > 0 ? cpus / PARALLEL : 1)), or run fewer at once" >&2
  fi
}
