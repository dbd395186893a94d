"""The run's output: the facts of the machine, the table, JSON."""

import json

from .harness import fmt_count, format_time

def print_facts(facts, settings):
    load = " ".join(f"{x:.2f}" for x in facts["load_average_before"])
    print("pfor vs Python tools, one run on this machine")
    print(f"  date          {facts['date']}")
    print(f"  cpu           {facts['cpu_model']}")
    print(f"  nproc         {facts['nproc']} (usable: {facts['usable_cpus']})")
    print(f"  load average  {load} (before the run)")
    print(f"  python        {facts['python']}; joblib {facts['joblib']}; "
          f"distributed {facts['distributed']}")
    print(f"  primesieve    {facts['primesieve']}")
    print(f"  pfor          {facts['pfor_commit']} "
          f"({facts['pfor_binaries'].get('pfor')})")
    print(f"  settings      {settings['repeat']} rounds "
          f"({settings['noop_repeat']} for overhead), {settings['procs']} "
          f"processes per tool, primes to {fmt_count(settings['primes_n'])}, "
          f"trial division to {fmt_count(settings['trial_n'])}, "
          f"{fmt_count(settings['points'])} integration points")
    jobs = settings["chunk_jobs"]
    print(f"  per-chunk     g: {fmt_count(jobs['threads'])} chunks on "
          f"threads, {fmt_count(jobs['processes'])} on processes, "
          f"{fmt_count(jobs['command'])} commands")
    print(flush=True)


def print_table(comparisons, facts, notes):
    print()
    print("Median wall time of each tool over the rounds; ratio = the first "
          "row's median / this row's median (below 1: the first row, pfor, is "
          "faster).")
    width = max([len(t.label) for c in comparisons for t in c.tools()] + [20])
    for c in comparisons:
        print()
        print(f"{c.cid}. {c.title}")
        per_unit = c.per_unit()
        if per_unit:
            print(f"   ratio = per-chunk median of '{c.subject.label}' / "
                  "per-chunk (per-task) median of the row")
        else:
            print(f"   ratio = median of '{c.subject.label}' / median of "
                  "the row")
        unit_header = f"  {'per chunk':>10}" if per_unit else ""
        header = (f"   {'tool':<{width}}  {'median':>10}  {'min':>10}  "
                  f"{'max':>10}  {'n':>3}{unit_header}  {'result':>12}  "
                  f"{'ratio':>6}")
        print(header)
        for i, tool in enumerate(c.tools()):
            if tool.times:
                ratio = "" if i == 0 else format_ratio(c.ratio(tool))
                result = format_value(tool.values[0]) if tool.values else ""
                unit = (f"  {format_short_time(tool.unit_median()):>10}"
                        if per_unit else "")
                print(f"   {tool.label:<{width}}  "
                      f"{format_time(tool.median()):>10}  "
                      f"{format_time(min(tool.times)):>10}  "
                      f"{format_time(max(tool.times)):>10}  "
                      f"{len(tool.times):>3}{unit}  {result:>12}  "
                      f"{ratio:>6}")
            else:
                print(f"   {tool.label:<{width}}  skipped: "
                      f"{tool.why_missing()}")
        for note in c.notes:
            print(f"   - {note}")
        for problem in c.problems:
            print(f"   !! RESULT MISMATCH: {problem}")
    load = " ".join(f"{x:.2f}" for x in facts["load_average_after"])
    print()
    print(f"load average after the run: {load}")
    for note in notes:
        print(f"note: {note}")


def format_ratio(ratio):
    if ratio is None:
        return "-"
    if ratio < 0.01:
        return f"{ratio:.2g}"
    return f"{ratio:.3f}" if ratio < 0.1 else f"{ratio:.2f}"


def format_short_time(seconds):
    """A per-chunk time: '42.1 µs', '1.31 ms'."""
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return format_time(seconds)


def format_value(value):
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def write_json(path, facts, settings, comparisons, notes):
    out = {
        "machine": facts,
        "settings": settings,
        "notes": notes,
        "comparisons": [],
    }
    for c in comparisons:
        rows = []
        for i, tool in enumerate(c.tools()):
            rows.append({
                "key": tool.key,
                "label": tool.label,
                "times_s": tool.times,
                "median_s": tool.median(),
                "min_s": min(tool.times) if tool.times else None,
                "max_s": max(tool.times) if tool.times else None,
                "results": tool.values,
                "units": tool.units,
                "per_unit_median_s": tool.unit_median(),
                f"ratio_{c.subject.key}_over_this": None if i == 0
                else c.ratio(tool),
                "skipped": None if tool.times else tool.why_missing(),
            })
        out["comparisons"].append({
            "id": c.cid,
            "title": c.title,
            "subject": c.subject.label,
            "rows": rows,
            "notes": c.notes,
            "problems": c.problems,
        })
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
