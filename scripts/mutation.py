"""Mutation testing of the core modules (``make mutation``; docs/mutation-testing.md).

Each module is mutated by mutmut 3 in a scratch copy of the working tree
(``$TMPDIR/unigate-mutation/<module>/``, never in the checkout: others edit it while this runs),
against only the test files that specify that module. mutmut records which of those tests call
each mutated function, then runs, per mutant, just those tests in a process forked from a
warmed-up fork server (one at a time: ``--max-children 1``). The table printed at the end gives
the kill rate per module and in total; the survivors' diffs are written beside it.

    scripts/mutation.py                 # every module, fresh
    scripts/mutation.py cursor params   # some modules
    scripts/mutation.py --survivors     # re-test only the last run's survivors (after new tests)
    scripts/mutation.py --report        # print the last run's table again, run nothing
    scripts/mutation.py --ref HEAD      # a commit instead of the working tree
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Target:
    source: str        # the one file mutated
    tests: tuple[str, ...]  # the test files that specify it (missing ones are skipped)


# module name -> what is mutated and which tests may kill its mutants. mutmut narrows each
# mutant further to the tests (of these) that call the mutated function.
TARGETS: dict[str, Target] = {
    "cursor": Target("src/unigate/cursor.py", (
        "tests/test_cursor_codec.py", "tests/test_cursor_integrity.py", "tests/test_query_params.py",
    )),
    "resolve": Target("src/unigate/vault/resolve.py", (
        "tests/test_connection_resolution.py", "tests/test_headers_and_auth.py", "tests/test_tenant_isolation.py",
        "tests/test_connection_state.py",
    )),
    "redact": Target("src/unigate/downstream/redact.py", (
        "tests/test_redaction.py", "tests/test_secrets.py", "tests/test_secrets_in_query.py",
    )),
    "pool": Target("src/unigate/downstream/pool.py", (
        "tests/test_client_pool.py", "tests/test_bulkhead.py", "tests/test_downstream_isolation.py",
        "tests/test_downstream_limits.py",
    )),
    "params": Target("src/unigate/api/params.py", (
        "tests/test_query_parsing_edges.py", "tests/test_query_params.py", "tests/test_limits.py",
    )),
    "passthrough": Target("src/unigate/mapping/passthrough.py", (
        "tests/mapping/test_passthrough_edges.py", "tests/test_request_bodies.py", "tests/test_bad_input.py",
    )),
    "compiled": Target("src/unigate/mapping/compiled.py", (
        "tests/mapping/test_compiled_mapping_edges.py", "tests/mapping/test_record_mapping.py",
        "tests/mapping/test_through_the_gateway.py", "tests/test_warnings_and_strict.py",
    )),
}

# What a scratch copy needs: the package, the tests and their configuration, the recorded cassettes.
COPIED = ("src", "tests", "fixtures", "conftest.py", "pyproject.toml", "setup.py")
KILLED = {"killed", "timeout"}


def workdir() -> Path:
    return Path(os.environ.get("UNIGATE_MUTATION_DIR") or Path(tempfile.gettempdir()) / "unigate-mutation")


def install() -> None:
    """Install the ``mutation`` extra's requirements into this interpreter's environment if missing."""
    from packaging.requirements import Requirement

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["mutation"]
    missing = []
    for spec in extra:
        req = Requirement(spec)
        try:
            if req.specifier.contains(importlib.metadata.version(req.name), prereleases=True):
                continue
        except importlib.metadata.PackageNotFoundError:
            pass
        missing.append(spec)
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing],
                       check=True)


def copy_tree(dest: Path, ref: str | None) -> None:
    """Copy the files under COPIED to ``dest``: from commit ``ref``, or else from the working tree
    (tracked or new, not ignored; uncommitted edits included)."""
    if ref:
        archive = subprocess.run(["git", "archive", "--format=tar", ref, "--", *COPIED], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-xf", "-", "-C", str(dest)], input=archive, check=True)
        return
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z", "--", *COPIED], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def mutmut_config(target: Target, tests: list[str]) -> str:
    config = {
        "source_paths": ["src"],
        "only_mutate": [target.source],
        "also_copy": ["conftest.py", "fixtures"],
        "pytest_add_cli_args_test_selection": tests,
        # the scratch copy is no git checkout; each run starts from a fresh copy anyway
        "use_git_change_detection": False,
        # the main process stays free of pytest; a fork server imports and collects once, then
        # forks one child per mutant (the tests' servers run in threads started in that child)
        "process_isolation": "forkserver",
    }
    return "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in config.items())


# Appended to the scratch copy's conftest.py: a mutant's tests run in the order of Target.tests
# (each module's unit-level file first), so with -x most mutants die in a cheap unit test before any
# module-scoped gateway is started; only survivors pay for every selected test.
ORDER_HOOK = """

_MUTATION_ORDER = {order!r}


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return _MUTATION_ORDER.index(path) if path in _MUTATION_ORDER else len(_MUTATION_ORDER)
    items.sort(key=rank)
"""


def prepare(name: str, fresh: bool, ref: str | None) -> Path:
    target = TARGETS[name]
    here = workdir() / name
    if fresh and here.exists():
        shutil.rmtree(here)
    for stale in (here / "tests", here / "mutants" / "tests"):  # deleted test files must not linger
        shutil.rmtree(stale, ignore_errors=True)
    here.mkdir(parents=True, exist_ok=True)
    copy_tree(here, ref)
    tests = [t for t in target.tests if (here / t).is_file()]
    if not tests:
        raise SystemExit(f"{name}: none of its test files exist: {target.tests}")
    with (here / "pyproject.toml").open("a") as f:
        f.write(mutmut_config(target, tests))
    with (here / "conftest.py").open("a") as f:  # the scratch copy's, not the checkout's
        f.write(ORDER_HOOK.format(order=tests))
    (here / "selection.json").write_text(json.dumps({"source": target.source, "tests": tests}))
    return here


def results(here: Path, source: str) -> dict[str, str]:
    """mutant name -> status, from mutmut's own bookkeeping."""
    from mutmut.stats import status_by_exit_code

    meta = here / "mutants" / (source + ".meta")
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {key: status_by_exit_code[code] for key, code in codes.items()}


def mutmut(here: Path, *args: str, log: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    out = log.open("ab") if log else subprocess.PIPE
    try:
        return subprocess.run([str(BIN / "mutmut"), *args], cwd=here, stdout=out, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    finally:
        if log:
            out.close()


def run(name: str, survivors_only: bool, ref: str | None) -> float:
    here = workdir() / name
    source = TARGETS[name].source
    # re-testing survivors only holds while the module is unchanged: mutmut would not map the old
    # tests to a function that is new since (a refactoring), and its mutants would "survive" untested
    again = (survivors_only and (here / "mutants").exists() and not ref
             and (here / source).is_file() and (here / source).read_bytes() == (ROOT / source).read_bytes())
    if again:
        previous = results(here, TARGETS[name].source)
        names = sorted(k for k, s in previous.items() if s not in KILLED)
    here = prepare(name, fresh=not again, ref=ref)
    log = here / "mutmut.log"
    log.write_bytes(b"")
    started = time.monotonic()
    if again and not names:
        return 0.0
    print(f"{name}: mutating {TARGETS[name].source} "
          f"({'the ' + str(len(names)) + ' survivors' if again else 'every mutant'}; log {log})", flush=True)
    proc = mutmut(here, "run", "--max-children", "1", *(names if again else []), log=log)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        print(log.read_text()[-3000:])
        raise SystemExit(f"{name}: mutmut failed (exit {proc.returncode}); see {log}")
    (here / "elapsed").write_text(f"{elapsed:.0f}")
    write_survivors(name, here)
    return elapsed


def write_survivors(name: str, here: Path) -> None:
    status = results(here, TARGETS[name].source)
    lines = [f"# {name}: {TARGETS[name].source}\n"]
    for key, s in sorted(status.items(), key=lambda kv: _natural(kv[0])):
        if s in KILLED:
            continue
        diff = mutmut(here, "show", key).stdout.decode()
        lines.append(f"\n## {s}: {key}\n```diff\n{_diff_only(diff)}\n```\n")
    (here / "survivors.md").write_text("".join(lines))


def _diff_only(show: str) -> str:
    return "\n".join(line for line in show.splitlines() if not line.startswith("# ")).strip()


def _natural(key: str) -> tuple[str, int]:
    base, _, n = key.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


def report(names: list[str]) -> bool:
    rows, total_killed, total = [], 0, 0
    for name in names:
        here = workdir() / name
        status = results(here, TARGETS[name].source)
        if not status:
            rows.append((name, "-", "-", "-", "-", "not run", "-"))
            continue
        counts = {s: sum(1 for v in status.values() if v == s) for s in set(status.values())}
        killed = sum(counts.get(s, 0) for s in KILLED)
        elapsed = (here / "elapsed").read_text() + " s" if (here / "elapsed").exists() else "-"
        other = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in KILLED | {"survived"})
        rows.append((name, str(len(status)), str(killed), str(counts.get("survived", 0)), other or "-",
                     f"{100 * killed / len(status):.1f} %", elapsed))
        total_killed, total = total_killed + killed, total + len(status)
    header = ("module", "mutants", "killed", "survived", "other", "kill rate", "time")
    rows.append(("total", str(total), str(total_killed), "", "", f"{100 * total_killed / total:.1f} %" if total else "-", ""))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "| " + " | ".join(f"{{:{'<' if i in (0, 4) else '>'}{w}}}" for i, w in enumerate(widths)) + " |"
    print(f"\nMutation testing, {date.today()}, {os.cpu_count()} cores (survivors: {workdir()}/<module>/survivors.md)")
    print(fmt.format(*header))
    print("|" + "|".join(("-" * (w + 1) + ":") if i not in (0, 4) else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|")
    for row in rows:
        print(fmt.format(*row))
    return all(r[5] == "-" or r[5] == "not run" or float(r[5].split()[0]) >= 90 for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"some of: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--survivors", action="store_true", help="re-test only the previous run's survivors")
    parser.add_argument("--report", action="store_true", help="print the last results, run nothing")
    parser.add_argument("--ref", help="mutation-test this commit instead of the working tree")
    parser.add_argument("--install", action="store_true", help="install the `mutation` extra first if missing")
    args = parser.parse_args()
    names = [m for arg in args.modules for m in arg.replace(",", " ").split()] or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; choose from {', '.join(TARGETS)}")
    if args.install:
        install()
    ref = None
    if args.ref:
        ref = subprocess.run(["git", "rev-parse", "--verify", args.ref + "^{commit}"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
        print(f"testing commit {ref}")
    if not args.report:
        for name in names:
            elapsed = run(name, args.survivors, ref)
            print(f"{name}: done in {elapsed:.0f} s", flush=True)
    ok = report(names)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
