#!/usr/bin/env bash
# bench/scale.py on a lent GPU machine (the `device` tool), in one call well under 5 minutes.
#
# That machine has Python 3.12, JAX, PyTorch, OpenCV, h5py, pandas, rich and typer, but no TensorFlow, no
# ffmpeg and no network: Keras (with namex and optree, its pure-Python dependencies it lacks) and PyAV travel
# as wheels in .whl/ (in .gitignore), and Keras runs on JAX. The videos are made there with PyAV's x264.
#
#   bash bench/device_scale.sh --fetch     # here, once: download the wheels into .whl/ (~40 MB)
#   device tool: run(command="bash bench/device_scale.sh", carry=[".whl"], timeout_s=480)
#
# Results: the tables on stdout, and $OUT/scale.json, $OUT/scale.txt, $OUT/runtimes.json, $OUT/runtimes.txt,
# $OUT/gpu.txt. The runtimes table (issue 17) compares float32 and bfloat16 on the GPU, with --decode exact, fast
# and hw (NVDEC); OpenVINO is not installed there, so its rows are listed as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(keras==3.15.1 namex==0.1.0 optree==0.20.0 av==18.1.0)

if [ "${1:-}" = "--fetch" ]; then
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"
    ls -la .whl
    exit 0
fi

OUT="${OUT:-$PWD/device-out}"
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
(nvidia-smi -L; nproc; python3 --version) > "$OUT/gpu.txt" 2>&1 || true
set -o pipefail
timeout 250 python3 bench/scale.py --device --runtimes no --json "$OUT/scale.json" 2>&1 | tee "$OUT/scale.txt" || true
timeout 180 python3 bench/scale.py --device --runtimes only --rounds 3 --json "$OUT/runtimes.json" 2>&1 | tee "$OUT/runtimes.txt"
