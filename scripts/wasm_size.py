"""Sums twiggy's `top -f csv` rows (stdin) per crate: the first path segment of each item's
name. Names and custom sections are left out: wasm-opt strips them from the shipped file."""
import collections
import csv
import re
import sys

GPU_ENGINE = ("cubecl", "cubek", "pliron", "combine", "rustc_apfloat", "burn_cubecl", "wgpu", "awint")

sizes = collections.Counter()
for row in csv.DictReader(sys.stdin):
    name, size = row["Name"], int(row["ShallowSize"])
    if name.startswith(('"function names"', "custom section", "Σ", "...")):
        continue
    if name.startswith("data segment"):
        crate = "(data segments)"
    else:
        match = re.match(r"[<\s&(*]*(?:dyn |mut |const )?([A-Za-z_][A-Za-z0-9_]*)", name)
        crate = match.group(1) if match else name[:24]
    sizes[crate] += size

total = sum(sizes.values())
gpu = sum(v for k, v in sizes.items() if k.startswith(GPU_ENGINE))
print(f"code and data before wasm-opt: {total / 1e6:.2f} MB")
print(f"the WebGPU engine (cubecl/cubek kernels and their compiler, wgpu): "
      f"{gpu / 1e6:.2f} MB = {100 * gpu / total:.0f} %")
for crate, size in sizes.most_common(25):
    print(f"  {crate:28s} {size / 1e3:8.1f} KB {100 * size / total:5.1f} %")
