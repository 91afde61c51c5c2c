#!/usr/bin/env bash
# Benchmarks: builds a Release tree, runs benchmarks/bench_pipeline
# (every stage on a VOC-size image, predict vs explain, occlusion) and a batch
# of `pixelwise explain` runs on Fashion-MNIST, then prints the figures of
# docs/performance.md: per-stage times, explain / predict, occlusion / LRP,
# images per second, peak memory (getrusage), memory over growing batches.
#   PIXELWISE_BENCH_BUILD_DIR  build tree (default build-perf)
#   PIXELWISE_BENCH_OUT        folder for the raw results (default <build>/bench-results)
#   PIXELWISE_BENCH_BATCHES    batch sizes of the memory check (default "500 4000")
#   PIXELWISE_BENCH_REPEATS    interleaved pairs (1 thread, all cores) per batch size (default 3)
#   PIXELWISE_BENCH_SCRATCH    folder the batch explanations are written to (default <out>;
#                              e.g. /dev/shm to leave the disk out of the measurement)
#   PIXELWISE_BENCH_HOMKERMAP  1: also run benchmarks/homkermap_fashion (explicit
#                              maps vs exact kernel SVMs on Fashion-MNIST; about
#                              half an hour on 2 cores) into <out>/homkermap.md
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${PIXELWISE_BENCH_BUILD_DIR:-$root/build-perf}
out=${PIXELWISE_BENCH_OUT:-$build_dir/bench-results}
batches=${PIXELWISE_BENCH_BATCHES:-500 4000}
repeats=${PIXELWISE_BENCH_REPEATS:-3}
scratch_root=${PIXELWISE_BENCH_SCRATCH:-$out}
python=/usr/bin/python3  # Debian's interpreter (only the standard library is used)

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "${PIXELWISE_JOBS:-$(nproc)}" --target bench_pipeline homkermap_fashion pixelwise
mkdir -p "$out"

if [ "${PIXELWISE_BENCH_HOMKERMAP:-0}" = 1 ]; then
  echo "== homogeneous kernel maps vs exact kernel SVMs (benchmarks/homkermap_fashion.cpp)"
  (cd "$root" && "$build_dir/benchmarks/homkermap_fashion" configs/demo.json) | tee "$out/homkermap.md"
fi

echo "== stages on a 500 x 375 photo (benchmarks/bench_pipeline.cpp)"
"$build_dir/benchmarks/bench_pipeline" --benchmark_out="$out/stages.json" --benchmark_out_format=json \
  2> >(tee "$out/stages.stderr" >&2)

echo "== batch explain on Fashion-MNIST (pixelwise explain --list)"
cat > "$out/batch-config.json" <<'JSON'
{
  "descriptor": {"step": 2, "bin_sizes": [3, 4]},
  "codebook": {"words": 256, "training_descriptors": 30000, "seed": 1},
  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
  "normalisation": {"steps": ["l1"]},
  "svm": {"kernel": "hik", "C": 10}
}
JSON
"$build_dir/pixelwise" train --quiet --config "$out/batch-config.json" --data fashion-mnist:train:1000 --out "$out/batch-model"

"$python" - "$build_dir/pixelwise" "$out" "$batches" "$repeats" "$scratch_root" <<'PY'
import json, os, resource, shutil, statistics, subprocess, sys, time
binary, out, batches = sys.argv[1], sys.argv[2], [int(b) for b in sys.argv[3].split()]
repeats, scratch_root = int(sys.argv[4]), sys.argv[5]
results = []
def run(count, jobs, repeat):
    listing = os.path.join(out, f"list-{count}.txt")
    with open(listing, "w") as f:
        for i in range(count):
            f.write(f"fashion-mnist:test@{i % 10000}\n")
    # A fresh folder per run, all removed at the end: ext4 makes creating
    # files slow for minutes after many were deleted (its inode allocator
    # skips recently deleted inodes: 4000 images took 7.9 s with 12 s of
    # kernel time on two threads right after the previous run's folder was
    # removed, 1.8 s in a fresh one).
    target = os.path.join(scratch, f"{count}-{jobs}-{repeat}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    # A child per run, so that its peak RSS is its own: fork a small waiter.
    pid = os.fork()
    if pid == 0:
        with open(os.devnull, "w") as null:
            code = subprocess.call([binary, "explain", "--model", os.path.join(out, "batch-model"), "--out", target,
                                    "--jobs", str(jobs), "--list", listing], stdout=null)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(os.path.join(out, "peak.txt"), "w") as f:
            f.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"pixelwise explain failed for {count} images")
    with open(os.path.join(out, "peak.txt")) as f:
        peak_kb, cpu_seconds = f.read().split()
    peak_mb = int(peak_kb) / 1024
    files = len(os.listdir(target))
    if files != 3 * count:
        sys.exit(f"expected {3 * count} output files, found {files}")
    cpu_ms = 1e3 * float(cpu_seconds) / count
    results.append({"images": count, "jobs": jobs, "repeat": repeat, "seconds": seconds, "images_per_second": count / seconds,
                    "cpu_ms_per_image": cpu_ms, "peak_rss_mb": peak_mb})
    print(f"  {count:6d} images, --jobs {jobs}: {seconds:7.1f} s, {count / seconds:7.1f} images/s, "
          f"CPU {cpu_ms:5.2f} ms/image, peak RSS {peak_mb:6.1f} MB")
# Wall-clock images per second (whole command: model loading, explaining,
# writing .npy/.png/.json per image) with one thread and with all cores, in
# interleaved pairs: a run of a few seconds varies by tens of per cent with
# the file system's state, so the ratio is taken of the medians.
scratch = os.path.join(scratch_root, f"batch-explanations-{os.getpid()}")
shutil.rmtree(os.path.join(out, "batch-explanations"), ignore_errors=True)  # from older versions of this script
for count in batches:
    for repeat in range(repeats):
        for jobs in (1, 0):
            run(count, jobs, repeat)
shutil.rmtree(scratch)
with open(os.path.join(out, "batch.json"), "w") as f:
    json.dump(results, f, indent=2)
PY

"$python" - "$out" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
stages = {b["name"]: b for b in json.load(open(os.path.join(out, "stages.json")))["benchmarks"]}
def cpu(name):
    b = stages[name]
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
    return b["cpu_time"] * scale, b["real_time"] * scale
print("\n== figures (CPU ms per image, one core; wall ms in brackets)")
for name in sorted(stages, key=lambda n: list(stages).index(n)):
    c, r = cpu(name)
    counters = {k: v for k, v in stages[name].items()
                if k in ("descriptors", "dimension", "nonzero_bins", "support_vectors", "evaluations", "table_MB",
                         "support_vector_table_MB", "pairs", "predict_ms", "explain_ms", "ratio_of_minima", "ratio_median")}
    extra = "  " + ", ".join(f"{k} {v:g}" for k, v in counters.items()) if counters else ""
    print(f"  {name:34s} {c:10.2f}  [{r:10.2f}]{extra}")
def ratio(a, b):
    return cpu(a)[0] / cpu(b)[0]
pairs = stages["BM_ExplainVsPredict/10/iterations:1"]
predict_ms, explain_ms = pairs["predict_ms"], pairs["explain_ms"]
print("\n== ratios")
print(f"  predict / explain per image        {pairs['predict_ms_min']:.0f} ms / {pairs['explain_ms_min']:.0f} ms fastest, "
      f"{predict_ms:.0f} ms / {explain_ms:.0f} ms median ({pairs['pairs']:.0f} interleaved pairs, thread CPU time)")
print(f"  explain / predict                  {pairs['ratio_of_minima']:.3f}   (target <= 1.15; fastest explain / fastest "
      f"predict; per pair median {pairs['ratio_median']:.3f}, range {pairs['ratio_min']:.3f} - {pairs['ratio_max']:.3f})")
relevance = sum(cpu(n)[0] for n in ("BM_RelevanceSvmFromPass", "BM_RelevancePooling", "BM_RelevancePixelsFast"))
print(f"  relevance steps (svm from the pass + pooling + pixels) {relevance:.2f} ms = "
      f"{relevance / predict_ms:.4f} x predict")
print(f"  SVM decision direct / tables       {ratio('BM_SvmDecisionDirect', 'BM_SvmDecisionTables'):.1f}")
print(f"  coding exact / GEMM + argmin limit {ratio('BM_CodingExact', 'BM_SgemmArgminLimit'):.2f}   (target <= 1.5)")
print(f"  coding kd-forest / exact           {ratio('BM_CodingKdForest', 'BM_CodingExact'):.2f}")
print(f"  pixel spreading direct / fast      {ratio('BM_RelevancePixelsDirect', 'BM_RelevancePixelsFast'):.1f}")
print(f"  pixel spreading gradient / uniform {ratio('BM_RelevancePixelsGradient', 'BM_RelevancePixelsFast'):.1f}"
      f"   (its record, built once per image: {ratio('BM_PixelContributions', 'BM_RelevancePixelsFast'):.1f})")
print(f"  keypoint SIFT, gradient / uniform {ratio('BM_KeypointPixelsGradient', 'BM_KeypointPixelsUniform'):.1f}"
      f"   (its record: {ratio('BM_KeypointPixelContributions', 'BM_KeypointPixelsUniform'):.1f}, "
      f"{ratio('BM_KeypointPixelContributions', 'BM_KeypointDescriptors'):.2f} x the descriptors)")
occ = stages["BM_Occlusion/iterations:1"]
print(f"  occlusion (64 px patches, stride 32, {occ['evaluations']:.0f} passes) / LRP explain  "
      f"{cpu('BM_Occlusion/iterations:1')[0] / explain_ms:.0f}")
default_passes = occ["default_evaluations"]
print(f"  occlusion at the default 8 px / 4 px: {default_passes:.0f} passes, i.e. about "
      f"{default_passes * predict_ms / explain_ms:.0f} x LRP (estimated from predict)")
with open(os.path.join(out, "stages.stderr")) as f:
    peak = [l.split()[1] for l in f if l.startswith("peak_rss_mb")]
print(f"  peak RSS of the stage benchmarks   {peak[0] if peak else '?'} MB")
print("\n== batch explain (Fashion-MNIST 28 x 28, 256 words, 1x1 + 2x2 pyramid, hik; medians of the repeats)")
batch = json.load(open(os.path.join(out, "batch.json")))
for count in sorted({r["images"] for r in batch}):
    median = {}
    for jobs in (1, 0):
        runs = [r for r in batch if r["images"] == count and r["jobs"] == jobs]
        median[jobs] = statistics.median(r["images_per_second"] for r in runs)
        each = ", ".join(f"{r['images_per_second']:.0f}" for r in runs)
        print(f"  {count:6d} images, --jobs {jobs}: {median[jobs]:7.1f} images/s (wall; runs {each}), "
              f"CPU {statistics.median(r['cpu_ms_per_image'] for r in runs):5.2f} ms/image, "
              f"peak RSS {max(r['peak_rss_mb'] for r in runs):6.1f} MB")
    pairs = [b["seconds"] / a["seconds"] for a in batch for b in batch
             if a["images"] == b["images"] == count and a["repeat"] == b["repeat"] and a["jobs"] == 0 and b["jobs"] == 1]
    each = ", ".join(f"{p:.2f}" for p in pairs)
    print(f"  {count:6d} images, all cores / 1 thread: {median[0] / median[1]:.2f} x (ratio of the medians; "
          f"per pair {each})")
PY
