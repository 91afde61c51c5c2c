#!/usr/bin/env bash
# The Slurm job arrays of docs/cluster.md run for real, on a one-node Slurm
# cluster started here and torn down after, and compared with one-machine runs
# of the same commands:
#   1. munged, slurmctld and slurmd in a temporary folder (their own key,
#      slurm.conf with this machine's hostname, CPUs and memory, state, spool
#      and logs; free ports on 127.0.0.1), waiting for the node to be idle;
#   2. a small demo-like model trained on Fashion-MNIST training images;
#   3. scripts/slurm/explain.sbatch as an array of SHARDS tasks over IMAGES
#      test images (--resume); one task is cancelled (scancel) once it has
#      finished some images, and some finished outputs of another are deleted;
#      the two tasks are resubmitted and finish only what is missing;
#   4. scripts/slurm/evaluate.sbatch as an array over EVALUATED test images,
#      then scripts/slurm/merge.sbatch as a job depending on it (afterok);
#   5. the same explain and evaluate commands on this machine, without Slurm
#      or shards: every explanation file (.npy, .png, .json) must be identical
#      byte for byte, and the merged evaluation.json equal to the whole run's
#      apart from what docs/cluster.md lists as differing (times, the shard,
#      the command line, how each run used the machine).
# Exits non-zero on any mismatch, and with the daemon's own error if Slurm
# cannot start. The daemons and every job are stopped on exit (also on an
# error or Ctrl-C) and nothing is left outside the temporary folder, which is
# removed (KEEP=1 keeps it and prints its path).
#
# Needs Debian's slurm-wlm and munge (scripts/setup.sh installs them) and
# root, like a real slurmd. Environment: PIXELWISE_BINARY (default
# build/pixelwise), SHARDS (4), IMAGES (240), EVALUATED (40), TRAIN (500).
# About 70 s on two busy cores; docs/cluster.md has the measured runs.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin  # the daemons, for a caller whose PATH lacks them
root=$(cd "$(dirname "$0")/.." && pwd)
pixelwise=${PIXELWISE_BINARY:-${PIXELWISE_BUILD_DIR:-$root/build}/pixelwise}
shards=${SHARDS:-4}
images=${IMAGES:-240}
evaluated=${EVALUATED:-40}
train=${TRAIN:-500}
templates=$root/scripts/slurm

fail() { echo "cluster_run: $*" >&2; exit 1; }
say() { echo "== $*"; }

[ -x "$pixelwise" ] || fail "no pixelwise binary at $pixelwise (build it, or set PIXELWISE_BINARY)"
for tool in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scancel scontrol python3; do
  command -v "$tool" >/dev/null || fail "$tool not found: install slurm-wlm and munge (scripts/setup.sh)"
done
[ "$(id -u)" -eq 0 ] || fail "slurmd runs jobs as their users and so needs root; run as root"
((shards >= 2 && images >= 4 * shards && evaluated >= shards)) ||
  fail "need SHARDS >= 2, IMAGES >= 4 x SHARDS and EVALUATED >= SHARDS"

# What docs/cluster.md shows is what runs here: each template verbatim.
python3 - "$root/docs/cluster.md" "$templates"/*.sbatch <<'EOF' || fail "docs/cluster.md and scripts/slurm/ differ"
import sys
doc = open(sys.argv[1]).read()
for path in sys.argv[2:]:
    if "```sh\n" + open(path).read() + "```" not in doc:
        sys.exit(f"{path} is not shown verbatim in {sys.argv[1]}")
EOF

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixelwise-slurm.XXXXXX")
conf=$tmp/slurm.conf
pids=()  # the daemons, stopped in reverse order
job_processes() {  # processes of the cluster's jobs (slurmstepd, job steps), by their id
  local f pid parent
  # Slurm's processes inherit SLURM_CONF from slurmd; this shell's commands no
  # longer have it (export -n in teardown). The daemons and their helpers
  # (slurmscriptd) are not job processes.
  for f in $(grep -lsxzF "SLURM_CONF=$conf" /proc/[0-9]*/environ); do
    pid=${f#/proc/} && pid=${pid%/environ}
    parent=$(sed -E 's/.*\) [A-Za-z] ([0-9]+) .*/\1/' "/proc/$pid/stat" 2>/dev/null) || continue
    [[ $pid != "$$" && " ${pids[*]} " != *" $pid "* && " ${pids[*]} " != *" $parent "* ]] && echo "$pid"
  done
  return 0
}
teardown() {
  local status=$? pid n left
  trap - EXIT INT TERM
  trap '' PIPE  # a reader of our output that is gone must not stop the clean-up
  set +e
  export -n SLURM_CONF
  if ((${#pids[@]} == 3)) && kill -0 "${pids[1]}" 2>/dev/null; then
    SLURM_CONF=$conf scancel --user="$(id -un)" 2>/dev/null
    for n in $(seq 50); do  # the jobs end before their slurmd does
      [ -z "$(SLURM_CONF=$conf squeue -h 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  for n in $(seq 50); do  # a slurmstepd outlives its job by a moment
    [ -z "$(job_processes)" ] && break
    sleep 0.2
  done
  for ((n = ${#pids[@]} - 1; n >= 0; n--)); do
    pid=${pids[n]}
    kill "$pid" 2>/dev/null
    for left in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for pid in $(job_processes); do
    echo "cluster_run: stopping leftover process $pid ($(cat "/proc/$pid/comm" 2>/dev/null))" >&2
    kill -KILL "$pid" 2>/dev/null
  done
  if [ "${KEEP:-0}" = 1 ]; then echo "cluster_run: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

logs_tail() {  # the daemons' logs, for an error message
  local f
  for f in "$tmp"/log/*; do echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; done
}

# --- 1. munge and Slurm --------------------------------------------------------
say "start munged, slurmctld and slurmd in $tmp"
mkdir -p "$tmp/key" "$tmp/run" "$tmp/log" "$tmp/state" "$tmp/spool" "$tmp/jobs"
# munged checks its folders: the key private, the socket's path searchable by all.
chmod 711 "$tmp" "$tmp/run"
chmod 700 "$tmp/key"
head -c 1024 /dev/urandom > "$tmp/key/munge.key"
chmod 400 "$tmp/key/munge.key"
munged --foreground --key-file="$tmp/key/munge.key" --socket="$tmp/run/munge.socket" \
  --pid-file="$tmp/run/munged.pid" --seed-file="$tmp/key/munged.seed" --log-file="$tmp/log/munged.log" \
  > "$tmp/log/munged.out" 2>&1 &
pids+=($!)
for n in $(seq 100); do
  munge -S "$tmp/run/munge.socket" -n 2>/dev/null | unmunge -S "$tmp/run/munge.socket" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { logs_tail; fail "munged stopped: $(tail -n 1 "$tmp/log/munged.out")"; }
  ((n < 100)) || { logs_tail; fail "munged does not answer on $tmp/run/munge.socket"; }
  sleep 0.1
done

host=$(hostname -s)
node=$(slurmd -C | sed -n 1p)  # NodeName=HOST CPUs=... RealMemory=...: what slurmd will find
case $node in NodeName=*) ;; *) fail "slurmd -C did not describe this node: $node" ;; esac
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
user=$(id -un)
cat > "$conf" <<EOF
ClusterName=pixelwise
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$tmp/run/munge.socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
MailProg=/bin/true
# No cgroups in a container: processes tracked by process group, no binding.
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SwitchType=switch/none
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
# A job whose dependency fails (the merge after a failed task) is cancelled, not left pending.
DependencyParameters=kill_invalid_depend
# Finished jobs stay visible to scontrol until the checks are done.
MinJobAge=3600
# A cancelled task is killed 5 s after its SIGTERM (default 30 s).
KillWait=5
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf
slurmctld -D -i -f "$conf" > "$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$conf" > "$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
state=
for n in $(seq 120); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { logs_tail; fail "a Slurm daemon stopped (pid $pid); see the logs above"; }
  done
  ((n < 120)) || { logs_tail; fail "node $host not idle after 60 s (state: ${state:-none})"; }
  sleep 0.5
done
echo "node $host idle: $(sinfo -h -N -o '%c CPUs, %m MB')"

job_states() {  # JOBID -> "TASK STATE" lines of an array ("- STATE" for one job)
  scontrol -o show job "$1" | sed -E 's/.* ArrayTaskId=([0-9]+).* JobState=([A-Z_]+).*/\1 \2/; t; s/.* JobState=([A-Z_]+).*/- \1/'
}
active() {  # JOBID...: prints something while any of them is pending or running
  squeue -h -j "$(IFS=,; echo "$*")" -t PENDING,CONFIGURING,RUNNING,COMPLETING,SUSPENDED 2>/dev/null
}
wait_for() {  # JOBID...: until none is pending or running (10 minutes at most)
  local n
  for n in $(seq 1200); do
    [ -z "$(active "$@")" ] && return
    sleep 0.5
  done
  fail "jobs $* still running after 10 minutes"
}
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
submit() {  # SBATCH_OPTIONS... JOB_SCRIPT ARGS...: prints the job id
  sbatch --parsable --chdir="$tmp" --output="$tmp/jobs/%x-%A_%a.out" --cpus-per-task=1 --mem=1G --time=00:20:00 "$@"
}

# --- 2. model and image list ---------------------------------------------------
say "train a small model on $train Fashion-MNIST training images"
cat > "$tmp/config.json" <<'EOF'
{
  "descriptor": {"type": "dsift", "step": 2, "bin_sizes": [3, 4], "smoothing_magnif": 6.0, "fast": true},
  "codebook": {"words": 64, "training_descriptors": 20000, "seed": 1, "search": "exact"},
  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
  "normalisation": {"steps": ["l1"]},
  "svm": {"kernel": "hik", "C": 10.0}
}
EOF
"$pixelwise" train --quiet --config "$tmp/config.json" --data "fashion-mnist:train:$train" --out "$tmp/model"
for ((i = 0; i < images; i++)); do echo "fashion-mnist:test@$i"; done > "$tmp/images.txt"
export PIXELWISE=$pixelwise  # the templates run ${PIXELWISE:-pixelwise}

# --- 3. explain array, a cancelled task and lost outputs, resubmission -----------
say "explain: $images images in $shards shards (scripts/slurm/explain.sbatch)"
# Occlusion (65 model evaluations an image) rather than LRP (under a
# millisecond), so that a task runs long enough to be cancelled mid-way; one
# thread an image, as the task has one CPU (pixelwise's default counts the
# node's cores, not the task's).
explain_args=(--model "$tmp/model" --list "$tmp/images.txt" --method occlusion --threads 1)
started=$EPOCHREALTIME
job=$(submit --array="1-$shards" "$templates/explain.sbatch" "$tmp/cluster/explain" "$shards" "${explain_args[@]}")
# Cancel the last task once it has finished two images (of IMAGES / SHARDS).
victim=$shards victim_dir=$tmp/cluster/explain/part-$shards
per_shard=$((images / shards))
cancelled_after=
for n in $(seq 1200); do
  done_count=0
  [ -d "$victim_dir" ] && done_count=$(find "$victim_dir" -maxdepth 1 -name '*.json' | wc -l)
  if ((done_count >= 2)); then
    if [ "$(job_states "$job" | awk -v t="$victim" '$1 == t {print $2}')" = RUNNING ]; then
      scancel "${job}_${victim}"
      cancelled_after=$done_count
    fi
    break
  fi
  [ -z "$(active "$job")" ] && break
  sleep 0.1
done
wait_for "$job"
explain_first=$(elapsed "$started")
job_states "$job" | sort -n > "$tmp/explain-states.txt"
echo "first submission (${explain_first} s), task states:"; sed 's/^/  task /' "$tmp/explain-states.txt"
if [ -n "$cancelled_after" ]; then
  grep -qx "$victim CANCELLED" "$tmp/explain-states.txt" || fail "task $victim was cancelled but ended $(grep "^$victim " "$tmp/explain-states.txt")"
  finished=$(find "$victim_dir" -maxdepth 1 -name '*.json' | wc -l)
  echo "task $victim cancelled (scancel) with $finished of $per_shard images finished"
  ((finished < per_shard)) || fail "task $victim finished all its images before it was cancelled; nothing to resume"
else
  fail "task $victim ended before it could be cancelled mid-way (raise IMAGES)"
fi
awk -v t="$victim" '$1 != t && $2 != "COMPLETED" {exit 1}' "$tmp/explain-states.txt" ||
  { cat "$tmp"/jobs/pixelwise-explain-* >&2; fail "an explain task failed"; }
# Lost outputs in a finished shard: one image without its JSON, one without anything.
mapfile -t lost < <(ls "$tmp/cluster/explain/part-1" | sed -n 's/\.json$//p' | sort | sed -n 1,2p)
rm "$tmp/cluster/explain/part-1/${lost[0]}.json" "$tmp/cluster/explain/part-1/${lost[1]}".*
echo "deleted from part-1: ${lost[0]}.json and ${lost[1]}.{npy,png,json}"
say "resubmit tasks 1 and $victim of the same array"
started=$EPOCHREALTIME
job2=$(submit --array="1,$victim" "$templates/explain.sbatch" "$tmp/cluster/explain" "$shards" "${explain_args[@]}")
wait_for "$job2"
explain_second=$(elapsed "$started")
job_states "$job2" | awk '$2 != "COMPLETED" {exit 1}' ||
  { cat "$tmp"/jobs/pixelwise-explain-"$job2"_* >&2; fail "a resubmitted explain task failed"; }
for t in 1 "$victim"; do
  grep -H "already have complete outputs" "$tmp/jobs/pixelwise-explain-${job2}_$t.out" ||
    fail "task $t did not resume: $(cat "$tmp/jobs/pixelwise-explain-${job2}_$t.out")"
done
redone=$(grep -c ': class' "$tmp/jobs/pixelwise-explain-${job2}_1.out" || true)
[ "$redone" = 2 ] || fail "task 1 explained $redone images again, expected the 2 whose outputs were deleted"
redone=$(grep -c ': class' "$tmp/jobs/pixelwise-explain-${job2}_$victim.out" || true)
[ "$redone" = $((per_shard - finished)) ] ||
  fail "task $victim explained $redone images, expected the $((per_shard - finished)) it had not finished"

say "explain on this machine: the same list, one run, no shards"
started=$EPOCHREALTIME
"$pixelwise" explain "${explain_args[@]}" --jobs 1 --out "$tmp/single/explain" > "$tmp/single-explain.out"
explain_single=$(elapsed "$started")

# --- 4. evaluate array and the dependent merge ---------------------------------
evaluate_args=(--model "$tmp/model" --data "fashion-mnist:test:$evaluated" --foreground 0
               --methods lrp,occlusion,sensitivity,random --steps 20 --flip-steps 20 --report-images 4 --threads 1)
say "evaluate: $evaluated images in $shards shards, then merge (afterok)"
started=$EPOCHREALTIME
ejob=$(submit --array="1-$shards" "$templates/evaluate.sbatch" "$tmp/cluster/evaluate" "$shards" "${evaluate_args[@]}")
mjob=$(submit --dependency="afterok:$ejob" "$templates/merge.sbatch" "$tmp/cluster/evaluate")
wait_for "$ejob" "$mjob"
evaluate_cluster=$(elapsed "$started")
job_states "$ejob" | awk '$2 != "COMPLETED" {exit 1}' ||
  { cat "$tmp"/jobs/pixelwise-evaluate-* >&2; fail "an evaluate task failed"; }
job_states "$mjob" | awk '$2 != "COMPLETED" {exit 1}' ||
  { cat "$tmp"/jobs/pixelwise-merge-* >&2; fail "the merge job did not complete: $(job_states "$mjob")"; }
cat "$tmp"/jobs/pixelwise-merge-*

say "evaluate on this machine: the same data, one run, no shards"
started=$EPOCHREALTIME
"$pixelwise" evaluate "${evaluate_args[@]}" --jobs 1 --quiet --out "$tmp/single/evaluate" > "$tmp/single-evaluate.out"
evaluate_single=$(elapsed "$started")

# --- 5. comparison -------------------------------------------------------------
say "compare the cluster outputs with the one-machine runs"
python3 - "$tmp" "$shards" <<'EOF'
import filecmp, json, os, sys
tmp, shards = sys.argv[1], int(sys.argv[2])
errors = []
# Explain: the parts together hold exactly the single run's files, byte for byte.
single = os.path.join(tmp, "single", "explain")
want = sorted(f for f in os.listdir(single) if not f.startswith("."))
got, partial = {}, []
for k in range(1, shards + 1):
    part = os.path.join(tmp, "cluster", "explain", f"part-{k}")
    for f in os.listdir(part):
        if ".partial-" in f:
            partial.append(f)  # left by the cancelled task: not an output
        elif not f.startswith("."):
            if f in got: errors.append(f"{f} in part-{k} and {got[f]}")
            got[f] = f"part-{k}"
if sorted(got) != want:
    errors.append(f"explain files: missing {sorted(set(want) - set(got))[:5]}, extra {sorted(set(got) - set(want))[:5]}")
differ = [f for f in want if f in got and
          not filecmp.cmp(os.path.join(single, f), os.path.join(tmp, "cluster", "explain", got[f], f), shallow=False)]
if differ: errors.append(f"explain files differ: {differ[:5]} ({len(differ)} in all)")
print(f"explain: {len(want)} files ({len(want) // 3} images x .npy/.png/.json) identical byte for byte "
      f"in {shards} parts" if not differ else "explain: files differ",
      f"({len(partial)} temporary *.partial-* file(s) left by the cancelled task)" if partial else "")
# Evaluate: equal apart from the times, the shard, the command line and the machine use.
def comparable(path):
    e = json.load(open(path))
    for key in ("seconds",):
        e.pop(key, None)
    for key in ("shard", "command", "execution"):
        e["settings"].pop(key, None)
    for image in e["images"]:
        for m in image["methods"].values():
            m.pop("seconds", None)
    for m in e["summary"].values():
        m.pop("seconds", None)
    return e
merged = comparable(os.path.join(tmp, "cluster", "evaluate", "all", "evaluation.json"))
whole = comparable(os.path.join(tmp, "single", "evaluate", "evaluation.json"))
if merged != whole:
    keys = [k for k in set(merged) | set(whole) if merged.get(k) != whole.get(k)]
    errors.append(f"evaluation.json: merged and whole differ in {keys}")
else:
    print(f"evaluate: merged evaluation.json of {shards} parts equals the whole run's "
          f"({len(whole['images'])} images, {len(whole['summary'])} methods; times, shard, command and execution aside)")
for e in errors:
    print("MISMATCH:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

say "done: $shards shards, the cluster's outputs equal the one-machine runs"
printf '%-40s %8s\n' "explain, array (with a task cancelled)" "$explain_first s" \
  "explain, resubmitted tasks (--resume)" "$explain_second s" \
  "explain, one run on this machine" "$explain_single s" \
  "evaluate array + merge" "$evaluate_cluster s" \
  "evaluate, one run on this machine" "$evaluate_single s"
