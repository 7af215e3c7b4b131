"""bench/summary.py: turn a hyperfine JSON export into summary rows for
bench/RESULTS.md. Usage:

  python3 bench/summary.py OUT.json SUMMARY.json 'LABEL|OURS|PEER|DIRECTION|TARGET|NOTE' ...
  python3 bench/summary.py --markdown OUT.md REQUESTS.tsv

OURS and PEER are hyperfine command names, or several joined with '+'
(their medians are summed). DIRECTION is 'le' (ratio ours/peer must be at
most TARGET) or 'ge' (ratio peer/ours, i.e. relative throughput, at least
TARGET). When requests.tsv (NAME<TAB>COUNT lines, written by lib.sh's
count_requests) sits next to OUT.json, each row also carries the registry
requests of OURS and PEER. --markdown adds those counts to hyperfine's
markdown table OUT.md as a last column, in place."""
import json, os, statistics, sys


def load_requests(path):
    reqs = {}
    try:
        for line in open(path):
            name, _, n = line.rstrip("\n").rpartition("\t")
            if name:
                reqs[name] = int(n)
    except FileNotFoundError:
        pass
    return reqs


if sys.argv[1] == "--markdown":
    md, reqs = sys.argv[2], load_requests(sys.argv[3])
    lines = open(md).read().splitlines()
    for i, line in enumerate(lines):
        if i == 0:
            line += " Registry requests |"
        elif i == 1:
            line += "---:|"
        else:
            name = line.split("|")[1].strip().strip("`")
            line += f" {reqs[name] if name in reqs else ''} |"
        lines[i] = line
    open(md, "w").write("\n".join(lines) + "\n")
    sys.exit()

res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
reqs = load_requests(os.path.join(os.path.dirname(sys.argv[1]), "requests.tsv"))

def med(names):
    return sum(statistics.median(res[n]["times"]) * 1000 for n in names.split("+"))

def span(names):
    lo = sum(min(res[n]["times"]) * 1000 for n in names.split("+"))
    hi = sum(max(res[n]["times"]) * 1000 for n in names.split("+"))
    return lo, hi

def requests(names):
    names = names.split("+")
    return sum(reqs[n] for n in names) if all(n in reqs for n in names) else None

rows = []
for spec in sys.argv[3:]:
    label, ours, peer, direction, target, note = spec.split("|")
    o, p = med(ours), med(peer)
    ratio = o / p if direction == "le" else p / o
    met = ratio <= float(target) if direction == "le" else ratio >= float(target)
    row = {"label": label, "ours": ours, "peer": peer, "oursMs": round(o, 2), "peerMs": round(p, 2),
           "oursRange": [round(x, 2) for x in span(ours)], "peerRange": [round(x, 2) for x in span(peer)],
           "ratio": round(ratio, 3), "direction": direction, "target": float(target), "met": met, "note": note}
    if requests(ours) is not None and requests(peer) is not None:
        row["oursRequests"], row["peerRequests"] = requests(ours), requests(peer)
    rows.append(row)
try:
    old = json.load(open(sys.argv[2]))
except (FileNotFoundError, ValueError):
    old = []
json.dump(old + rows, open(sys.argv[2], "w"), indent=2)
for r in rows:
    sym = "<=" if r["direction"] == "le" else ">="
    o = f" ({r['oursRequests']} requests)" if "oursRequests" in r else ""
    p = f" ({r['peerRequests']} requests)" if "peerRequests" in r else ""
    print(f"{r['label']}: {r['oursMs']:.1f} ms{o} vs {r['peerMs']:.1f} ms{p}, ratio {r['ratio']:.2f} (target {sym} {r['target']}) {'MET' if r['met'] else 'NOT MET'}")
