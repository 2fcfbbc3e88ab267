#!/usr/bin/env bash
# tdg across a Slurm cluster: a job array of 16 tasks, each generating one shard of the
# corpus. Slurm sets SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT,
# from which tdg takes the shard (task 1 of --array=1-16 is shard 0 of 16).
#
#   sbatch deploy/slurm/tdg-array.sh
#   # when every task is done:
#   tdg merge "$QA_DIR"
#
# Each task writes $QA_DIR/shard-KKKK-of-0016/ on the shared file system and runs with
# --resume, so a requeued task continues where it stopped. Exit code 78 (a wrong key or
# setting) is permanent; 75, 1 and 130 may pass: `--requeue` plus `scontrol requeue` (or
# simply resubmitting the failed indexes with --array=3,7) runs them again.
#
# --requests-per-minute and --tokens-per-minute apply per task: divide the provider's
# quota by the number of tasks that run at once (%8 below: 3,000 RPM / 8 = 375).
#SBATCH --job-name=tdg-generate
#SBATCH --array=1-16%8
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=tdg-%A_%a.log
set -euo pipefail

CHUNKS_DIR=${CHUNKS_DIR:-$HOME/corpus/chunks}
QA_DIR=${QA_DIR:-$HOME/corpus/qa}

exec tdg generate \
    --provider openai --model gpt-4o-mini \
    --chunks-dir "$CHUNKS_DIR" --qa-dir "$QA_DIR" \
    --resume --requests-per-minute 375
