#!/usr/bin/env python3
"""Folds the micro-benchmarks' JMH export into per-operation figures and the ratios bench/run prints.

Each benchmark runs its operation a thousand times per iteration (scalingFactor .kilo), so an
iteration's wall-clock microseconds are the operation's nanoseconds; the median iteration is used.

    micro_summary.py DIRECTORY_WITH_JMH_JSON OUT.json
"""
import glob
import json
import sys


def main():
    directory, out = sys.argv[1], sys.argv[2]
    paths = glob.glob(f"{directory}/*.jmh.json")
    if not paths:
        raise SystemExit(f"no JMH export in {directory}")
    figures = {}
    for element in json.load(open(paths[0])):
        name = element["benchmark"].rsplit(".", 1)[-1].replace("_", " ")
        metrics = element["secondaryMetrics"]
        figures[name] = {
            "nsPerOperation": metrics["Time (wall clock)"]["scorePercentiles"]["50.0"],
            "mallocsPerOperation": metrics["Malloc (total)"]["scorePercentiles"]["50.0"] / 1000,
        }
    ratios = {}
    for size in (64, 1024):
        for operation in ("seal", "open"):
            ours, raw = figures.get(f"{operation} {size} B"), figures.get(f"raw AES-GCM {operation} {size} B")
            if ours and raw:
                ratios[f"{operation}/raw AES-GCM {size} B"] = ours["nsPerOperation"] / raw["nsPerOperation"]
    json.dump({"figures": figures, "ratios": ratios}, open(out, "w"), indent=2, sort_keys=True)
    print(f"{'micro-benchmark':<34} {'ns/op':>10} {'mallocs/op':>11}")
    for name in sorted(figures):
        print(f"{name:<34} {figures[name]['nsPerOperation']:>10.0f} {figures[name]['mallocsPerOperation']:>11.1f}")
    for name, value in ratios.items():
        print(f"{name:<34} {value:>10.2f}")


if __name__ == "__main__":
    main()
