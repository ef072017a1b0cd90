"""What this machine's CPU computes natively: bfloat16 (AVX-512 BF16, AMX, Arm BF16) and int8 dot products (VNNI).

Read from the kernel's CPU flags, without importing any runtime, so that a precision the CPU would only
emulate is refused in one line before a network is built.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

#: CPU flags (x86 /proc/cpuinfo `flags`, Arm `Features`) meaning bfloat16 arithmetic in hardware.
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
#: ... and int8 dot products in hardware (int8 runs without them, at a fraction of the speed).
INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (empty where the kernel does not list them, e.g. off Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name, e.g. 'AMD EPYC 9R14 96-Core Processor' ('' if unknown)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def native_bfloat16() -> str:
    """The flag that gives this CPU bfloat16 in hardware ('avx512_bf16', 'amx_bf16', 'bf16'), or ''."""
    return next((f for f in BFLOAT16_FLAGS if f in cpu_flags()), "")


def native_int8() -> str:
    """The flag that gives this CPU int8 dot products in hardware ('avx512_vnni', ...), or ''."""
    return next((f for f in INT8_FLAGS if f in cpu_flags()), "")
