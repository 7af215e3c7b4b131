"""bench/summary.py: turn a hyperfine JSON export into summary rows for
bench/RESULTS.md. Usage:

  python3 bench/summary.py OUT.json SUMMARY.json 'LABEL|OURS|PEER|DIRECTION|TARGET|NOTE' ...

OURS and PEER are hyperfine command names, or several joined with '+'
(their medians are summed). DIRECTION is 'le' (ratio ours/peer must be at
most TARGET) or 'ge' (ratio peer/ours, i.e. relative throughput, at least
TARGET)."""
import json, statistics, sys

res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}

def med(names):
    return sum(statistics.median(res[n]["times"]) * 1000 for n in names.split("+"))

def span(names):
    lo = sum(min(res[n]["times"]) * 1000 for n in names.split("+"))
    hi = sum(max(res[n]["times"]) * 1000 for n in names.split("+"))
    return lo, hi

rows = []
for spec in sys.argv[3:]:
    label, ours, peer, direction, target, note = spec.split("|")
    o, p = med(ours), med(peer)
    ratio = o / p if direction == "le" else p / o
    met = ratio <= float(target) if direction == "le" else ratio >= float(target)
    rows.append({"label": label, "ours": ours, "peer": peer, "oursMs": round(o, 2), "peerMs": round(p, 2),
                 "oursRange": [round(x, 2) for x in span(ours)], "peerRange": [round(x, 2) for x in span(peer)],
                 "ratio": round(ratio, 3), "direction": direction, "target": float(target), "met": met, "note": note})
try:
    old = json.load(open(sys.argv[2]))
except (FileNotFoundError, ValueError):
    old = []
json.dump(old + rows, open(sys.argv[2], "w"), indent=2)
for r in rows:
    sym = "<=" if r["direction"] == "le" else ">="
    print(f"{r['label']}: {r['oursMs']:.1f} ms vs {r['peerMs']:.1f} ms, ratio {r['ratio']:.2f} (target {sym} {r['target']}) {'MET' if r['met'] else 'NOT MET'}")
