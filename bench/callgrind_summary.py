"""Where a request's instructions go, from one callgrind dump (bench/profile.sh).

    python3 bench/callgrind_summary.py CALLGRIND_OUT REQUESTS [TOP]

CALLGRIND_OUT is the dump of the recorded stretch only (bench.h with -DBENCH_CALLGRIND),
REQUESTS the number of requests in it (the RESULT line's n). Prints instructions (Ir)
per request: in all; by shared object; by Rust crate (or C component) inside each
object; the TOP functions by their own (exclusive) cost; and the TOP functions by
inclusive cost (their own plus what they call). Standard library only.
"""

import re
import sys
from collections import defaultdict

# Names of the compressed-name namespaces in the callgrind format.
KIND = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl", "cfl": "fl",
        "fn": "fn", "cfn": "fn"}
NAME_REF = re.compile(r"\((\d+)\)(?:\s(.*))?$")


def parse(path):
    names = {"ob": {}, "fl": {}, "fn": {}}
    self_cost = defaultdict(int)  # (ob, fn) -> Ir spent in the function itself
    call_cost = defaultdict(int)  # (ob, fn) -> Ir spent in what it called
    calls = defaultdict(int)  # (ob, fn) -> times called
    edges = defaultdict(lambda: [0, 0])  # ((ob, fn), (cob, cfn)) -> [calls, inclusive Ir]
    total = 0
    ob = fn = "?"
    cob = cfn = None
    in_call = False

    def resolve(kind, value):
        m = NAME_REF.match(value)
        if not m:
            return value
        table = names[KIND[kind]]
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1), "?")

    with open(path, errors="replace") as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if in_call:
                    call_cost[(ob, fn)] += cost
                    edges[((ob, fn), callee)][1] += cost
                    in_call = False
                else:
                    self_cost[(ob, fn)] += cost
                continue
            if line.startswith("calls="):
                count = int(line[6:].split()[0])
                callee = (cob or ob, cfn or "?")
                calls[callee] += count
                edges[((ob, fn), callee)][0] += count
                cob = None
                in_call = True
                continue
            if line.startswith(("totals:", "summary:")):
                total = max(total, int(line.split()[1]))
                continue
            key, sep, value = line.rstrip("\n").partition("=")
            if not sep or key not in KIND:
                continue
            name = resolve(key, value)
            if key == "ob":
                ob = name
            elif key == "fn":
                fn = name
                cob = cfn = None
            elif key == "cob":
                cob = name
            elif key == "cfn":
                cfn = name
    if not total:
        total = sum(self_cost.values())
    return total, self_cost, call_cost, calls, edges


def short_object(path):
    name = path.rsplit("/", 1)[-1]
    return re.sub(r"\.so(\.[0-9.]+)?$", ".so", name)


def component(fn):
    """The Rust crate a (demangled) function belongs to, or a name for C code."""
    name = fn
    m = re.match(r"core::ptr::drop_in_place<(.*)>$", name)
    if m:  # dropping a value: count it with the crate of the value's type
        name = m.group(1)
    name = name.lstrip("<&*( ")
    for prefix in ("dyn ", "mut ", "const "):
        if name.startswith(prefix):
            name = name[len(prefix):]
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", name)
    if m:
        return m.group(1)
    if name.startswith("ring_core_") or name.startswith("GFp") or "aes_" in name or "gcm" in name:
        return "ring (C/asm)"
    return "(C or unnamed)"


def print_tree(edges, inclusive, total, requests, threshold=0.01, depth_limit=6):
    """The call tree under the library's entry point (or the peer's), by inclusive cost;
    callees below `threshold` of the total are left out. Callgrind keeps one set of call
    edges per function, not per call path: below a function reached from several places,
    its callees' costs are scaled by the share of its cost that came through this path
    (marked '~')."""
    children = defaultdict(list)
    for (caller, callee), (count, cost) in edges.items():
        children[caller].append((cost, count, callee))
    roots = [k for k in children if k[1] in ("av_client_refresh", "curl_easy_perform")]
    if not roots:
        return
    print(f"\nCall tree (inclusive instructions per request, calls per request; callees >= "
          f"{threshold:.0%}; '~': scaled, the function is also reached from elsewhere):")

    def walk(node, depth, seen, scale):
        for cost, count, callee in sorted(children.get(node, []), reverse=True):
            cost, count = cost * scale, count * scale
            if cost < total * threshold or callee in seen:
                continue
            mark = "~" if scale < 0.995 else " "
            print(f"  {'  ' * depth}{mark}{cost / requests:>9,.0f}  {100 * cost / total:5.1f}%  "
                  f"{count / requests:6.1f}x  {callee[1][:120]}")
            if depth < depth_limit:
                whole = inclusive.get(callee, 0)
                walk(callee, depth + 1, seen | {callee}, min(1.0, cost / whole) if whole else 0)

    for root in roots:
        walk(root, 0, {root}, 1.0)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, requests = sys.argv[1], int(float(sys.argv[2]))
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    total, self_cost, call_cost, calls, edges = parse(path)
    per = lambda ir: ir / requests  # noqa: E731

    print(f"{per(total):,.0f} instructions (Ir) per request ({total:,} over {requests} requests)")

    by_object = defaultdict(int)
    by_component = defaultdict(int)
    for (ob, fn), ir in self_cost.items():
        by_object[short_object(ob)] += ir
        by_component[(short_object(ob), component(fn))] += ir
    print("\nBy shared object (own instructions per request):")
    for ob, ir in sorted(by_object.items(), key=lambda kv: -kv[1]):
        if ir / total >= 0.002:
            print(f"  {per(ir):>10,.0f}  {100 * ir / total:5.1f}%  {ob}")
    print("\nBy crate / component inside each object (per request, >= 0.5%):")
    for (ob, comp), ir in sorted(by_component.items(), key=lambda kv: -kv[1]):
        if ir / total >= 0.005:
            print(f"  {per(ir):>10,.0f}  {100 * ir / total:5.1f}%  {ob}: {comp}")
    print(f"\nTop {top} functions by own instructions (per request):")
    for (ob, fn), ir in sorted(self_cost.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {per(ir):>10,.0f}  {100 * ir / total:5.1f}%  {fn[:150]}  [{short_object(ob)}]")
    inclusive = {k: self_cost.get(k, 0) + call_cost.get(k, 0) for k in set(self_cost) | set(call_cost)}
    print("\nCalls per request into the C library's allocator and copies:")
    for name in ("malloc", "calloc", "realloc", "free", "__memcpy_avx_unaligned_erms",
                 "__memmove_avx_unaligned_erms"):
        n = sum(count for (ob, fn), count in calls.items() if fn == name)
        if n:
            print(f"  {name}: {n / requests:.1f}")
    inclusive = {k: self_cost.get(k, 0) + call_cost.get(k, 0) for k in set(self_cost) | set(call_cost)}
    print_tree(edges, inclusive, total, requests)
    print(f"\nTop {top} functions by inclusive instructions (per request; nested, so they overlap):")
    shown = 0
    for (ob, fn), ir in sorted(inclusive.items(), key=lambda kv: -kv[1]):
        if ir > total * 1.01:  # recursion counted twice: not meaningful
            continue
        print(f"  {per(ir):>10,.0f}  {100 * ir / total:5.1f}%  {fn[:150]}  [{short_object(ob)}]")
        shown += 1
        if shown >= top:
            break


if __name__ == "__main__":
    main()
