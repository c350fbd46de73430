"""Markdown tables from a results JSON, for benchmarks/RESULTS.md.

    python -m benchmarks.report benchmarks/results-cpu.json
"""

from __future__ import annotations

import argparse
import json


def _f(x, digits=3):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _us(seconds):
    return None if seconds is None else 1e6 * seconds


def header(r: dict) -> list[str]:
    env = r["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    load = env.get("load_average_at_start")
    return [
        f"- date: {env['date']}; suite: {r['suite']}; wall time {r['elapsed_s']:.0f} s",
        f"- device: {env['device']} ({env['cpu_count']} CPU cores visible); "
        f"load average at start {_f(load[0] if load else None)}",
        f"- versions: python {env['python']}, {versions}; git {env['git_commit']}",
    ]


def point_table(r: dict) -> list[str]:
    p = r["point"]
    lines = [f"Point fits, {p['num_steps']} Adam steps of MLP (10, 10, 1) tanh "
             "(median of repeats; cold = compilation included; hand = the issue's hand-written "
             "jitted scan after an eager Flax init, hand-jit = with the init compiled in too):",
             "",
             "| n | bnn cold s | hand cold s | hand-jit cold s | notebook cold s | bnn warm s | "
             "hand warm s | hand-jit warm s | notebook warm s | bnn/hand cold | bnn/hand warm | "
             "bnn/hand-jit cold | bnn/hand-jit warm | notebook/bnn warm |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, row in p["sizes"].items():
        nb = row.get("notebook", {})
        hj = row.get("handwritten_jit_init", {})
        ra = row["ratios"]
        lines.append(
            f"| {n} | {_f(row['bnn']['cold_s'])} | {_f(row['handwritten']['cold_s'])} | "
            f"{_f(hj.get('cold_s'))} | {_f(nb.get('cold_s'))} | {_f(row['bnn']['warm_s'])} | "
            f"{_f(row['handwritten']['warm_s'])} | {_f(hj.get('warm_s'))} | "
            f"{_f(nb.get('warm_s'))} | "
            f"{_f(ra.get('bnn/handwritten cold'))} | {_f(ra.get('bnn/handwritten warm'))} | "
            f"{_f(ra.get('bnn/handwritten_jit_init cold'))} | "
            f"{_f(ra.get('bnn/handwritten_jit_init warm'))} | "
            f"{_f(ra.get('notebook/bnn warm'))} |")
    return lines


def _sampler_rows(name: str, s: dict, lines: list[str], extra: str = "") -> None:
    for run in s["runs"]:
        vs = run.get("ess_per_s_vs_numpyro")
        lines.append(
            f"| {name}{extra} | {run['run']} | {run['num_chains']} | {run['num_draws']} | "
            f"{_f(run['wall_s'])} | {_f(run['min_ess'], 4)} | {_f(run['max_rhat'], 4)} | "
            f"{run['divergences']} | {_f(run['ess_per_s'])} | "
            f"{_f(run['ess_per_1k_sampling_grads'])} | "
            f"{_f(run['ess_per_1k_total_grads'])} | {_f(run['mean_steps_per_draw'])} | "
            f"{_f(vs)} |")


def mcmc_table(r: dict) -> list[str]:
    m = r["mcmc"]
    lines = [f"Samplers on one posterior ({m['posterior']}); f(x*) on {m['grid']}; "
             f"{m['diagnostics']}:", "",
             "| sampler | run | chains | draws | wall s | min ESS f | max R-hat f | div | "
             "ESS/s | ESS/1k grads (sampling) | ESS/1k grads (total) | steps/draw | "
             "ESS/s vs numpyro |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    base = {run["run"]: run for run in m["samplers"]["numpyro"]["runs"]}
    for name, s in m["samplers"].items():
        for run in s["runs"]:
            if name != "numpyro" and run["run"] in base:
                run["ess_per_s_vs_numpyro"] = run["ess_per_s"] / base[run["run"]]["ess_per_s"]
        _sampler_rows(name, s, lines)
    for name, s in m.get("levers", {}).items():
        if "runs" in s:
            _sampler_rows(name, s, lines, " (lever)")
        else:
            lines.append(f"| {name} | {s.get('skipped', s.get('error'))} |" + " |" * 11)
    return lines


def overhead_table(r: dict) -> list[str]:
    o = r["overhead"]
    lines = ["SVI (warm):", "", "| guide | steps | steps/s |", "|---|---|---|"]
    for guide, row in o["svi"].items():
        lines.append(f"| {guide} | {row['num_steps']} | {_f(row['steps_per_s'])} |")
    lines += ["", "Progress bar, warm, on against off (off s, on s: medians; overhead: median "
              "over back-to-back pairs of on / off, minus one):", "",
              "| method | options | off s | on s | overhead |", "|---|---|---|---|---|"]
    for method, row in o["progress_bar"].items():
        if "overhead" in row:
            lines.append(f"| {method} | {row['options']} | {_f(row['warm_off_s'])} | "
                         f"{_f(row['warm_on_s'])} | {row['overhead']:+.1%} |")
        else:
            lines.append(f"| {method} | {row.get('skipped', row.get('error'))} | | | |")
    return lines


def scaling_table(r: dict) -> list[str]:
    s = r["scaling"]
    lines = ["Scaling (warm, microseconds; a step is a fit of K steps less a fit of one step, "
             "over K - 1; per fit is the one-step fit):", "",
             "| n | width | K | bnn MAP step | hand-written step | gradient | bnn per fit | "
             "hand-written per fit |",
             "|---|---|---|---|---|---|---|---|"]
    for row in s["by_n"] + s["by_width"]:
        lines.append(f"| {row['n']} | {row.get('width', 10)} | {row['num_steps']} | "
                     f"{_f(_us(row['map_step_s']))} | {_f(_us(row['handwritten_step_s']))} | "
                     f"{_f(_us(row['gradient_s']))} | {_f(_us(row.get('map_step_fixed_s')))} | "
                     f"{_f(_us(row.get('handwritten_step_fixed_s')))} |")
    return lines


def targets_table(r: dict) -> list[str]:
    lines = ["| target | met | numbers |", "|---|---|---|"]
    for name, t in r.get("targets", {}).items():
        numbers = {k: v for k, v in t.items() if k not in ("met", "note")}
        lines.append(f"| {name} | {'yes' if t['met'] else 'no'} | "
                     f"{json.dumps(numbers, default=str)[:400]} |")
    return lines


def render(r: dict) -> str:
    parts = [header(r)]
    for key, fn in (("targets", targets_table), ("point", point_table), ("mcmc", mcmc_table),
                    ("overhead", overhead_table), ("scaling", scaling_table)):
        if key in r:
            parts.append(fn(r))
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    args = parser.parse_args(argv)
    with open(args.results) as fh:
        print(render(json.load(fh)))


if __name__ == "__main__":
    main()
