"""memscan.py - count copies of a secret in a live process's memory (root).

Contract:
  * scan(pid, needles): reads /proc/PID/mem over every readable mapping
    listed in /proc/PID/smaps and returns {needle: (unlocked, locked)}:
    the number of occurrences outside and inside mlock()ed mappings
    (VmFlags "lo": libsodium's sodium_malloc() memory, also MADV_DONTDUMP).
    Occurrences spanning two mappings are not counted (mappings of one
    allocation are contiguous, but a secret never straddles one).
  * where(pid, needle): "mapping name (perms, dd?)" of each unlocked copy
    (with MF_MEMSCAN_CONTEXT=1 in the environment also the bytes around it),
    for messages.
  * dovecot_processes(dc): {"imap": [pids], "auth": [...], "auth-worker":
    [...], "lmtp": [...]} of a harness.Dovecot, by process name.
Only reads; the process is not stopped.
"""
import os
import re


def _maps(pid):
    out = []
    with open(f"/proc/{pid}/smaps") as f:
        cur = None
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$", line)
            if m:
                cur = {"start": int(m.group(1), 16), "end": int(m.group(2), 16),
                       "perms": m.group(3), "name": m.group(4).strip(), "flags": ""}
                out.append(cur)
            elif line.startswith("VmFlags:") and cur is not None:
                cur["flags"] = line.split(":", 1)[1].split()
    return out


def _regions(pid):
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for r in _maps(pid):
            if not r["perms"].startswith("r") or r["name"] in ("[vvar]", "[vsyscall]"):
                continue
            try:
                mem.seek(r["start"])
                data = mem.read(r["end"] - r["start"])
            except OSError:
                continue
            yield r, data


def _count(data, needle):
    n, i = 0, data.find(needle)
    while i >= 0:
        n += 1
        i = data.find(needle, i + 1)
    return n


def scan(pid, needles):
    found = {n: [0, 0] for n in needles}
    for r, data in _regions(pid):
        locked = "lo" in r["flags"]
        for n in needles:
            found[n][1 if locked else 0] += _count(data, n)
    return {n: tuple(v) for n, v in found.items()}


def where(pid, needle):
    out = []
    for r, data in _regions(pid):
        k = _count(data, needle)
        if k and "lo" not in r["flags"]:
            dd = " dd" if "dd" in r["flags"] else ""
            out.append(f"{k}x {r['name'] or '[anon]'} ({r['perms']}{dd})")
            if os.environ.get("MF_MEMSCAN_CONTEXT"):
                i = data.find(needle)
                while i >= 0:
                    out.append(repr(data[max(0, i - 96):i + len(needle) + 16]))
                    i = data.find(needle, i + 1)
    return out


def dovecot_processes(dc):
    import harness
    kinds = {}
    for pid in harness.processes_in_namespace(dc.pidns):
        try:
            with open(f"/proc/{pid}/comm") as f:
                kind = f.read().strip()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # auth workers run the auth binary with -w ("auth worker" in titles).
        if kind == "auth" and (" -w" in title or "worker" in title):
            kind = "auth-worker"
        kinds.setdefault(kind, []).append(pid)
    return kinds
