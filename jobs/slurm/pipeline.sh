#!/bin/bash
# Search, then the final training of its best genome, as two chained jobs: retrain.sbatch starts
# only when search.sbatch has succeeded (--dependency=afterok), and reads the search's run
# directory. Run from the repository root; the arguments are sbatch options for both jobs:
#
#   DATA=/data/cifar-10-batches-bin jobs/slurm/pipeline.sh
#   jobs/slurm/pipeline.sh --gpus-per-task=0 --cpus-per-task=2     # CPU-only, synthetic data
#
# Environment: GNAS, DATA (as in the job scripts); SEARCH_CONFIG, RETRAIN_CONFIG (default: the
# scripts' CIFAR-10 configs); SEARCH_OUT (default runs/search-<search job id>) and RETRAIN_OUT
# (default runs/retrain-<retrain job id>); SEARCH_OPTS, RETRAIN_OPTS: extra sbatch options for one
# job only (e.g. SEARCH_OPTS=--ntasks-per-node=2). A search that is requeued keeps the retrain
# waiting; one that fails or is cancelled cancels it (--kill-on-invalid-dep=yes).
set -euo pipefail
[ -f jobs/slurm/search.sbatch ] || { echo "pipeline.sh: run from the repository root" >&2; exit 2; }

# --parsable prints "id" or "id;cluster".
search_id=$(CONFIG="${SEARCH_CONFIG:-configs/search_cifar10.ini}" OUT="${SEARCH_OUT:-}" \
  sbatch --parsable "$@" ${SEARCH_OPTS:-} jobs/slurm/search.sbatch)
search_id=${search_id%%;*}
search_out=${SEARCH_OUT:-runs/search-$search_id}

retrain_id=$(CONFIG="${RETRAIN_CONFIG:-configs/retrain_cifar10.ini}" SEARCH="$search_out" OUT="${RETRAIN_OUT:-}" \
  sbatch --parsable --dependency="afterok:$search_id" --kill-on-invalid-dep=yes "$@" ${RETRAIN_OPTS:-} \
  jobs/slurm/retrain.sbatch)
retrain_id=${retrain_id%%;*}

echo "search  job $search_id -> $search_out"
echo "retrain job $retrain_id (after $search_id succeeds) -> ${RETRAIN_OUT:-runs/retrain-$retrain_id}"
