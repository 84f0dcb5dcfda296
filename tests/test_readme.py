"""The READMEs say what is true: curls that work as pasted, connector READMEs that match their
mapping files and cite their sources without paths that look like they are in this repository."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from unigate.connector_info import info
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation.server import free_port
from unigate.testing.cli import running_cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONNECTOR_READMES = sorted(ROOT.glob("connectors/*/README.md"))
VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(\[@\])?\}|\$[A-Za-z_][A-Za-z0-9_]*")


def shell_blocks(text: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def curl_commands(text: str) -> list[list[str]]:
    """Every curl command of the text's ```sh blocks, as shell words (comments dropped)."""
    commands = []
    for block in shell_blocks(text):
        for line in block:
            for command in line.split(" ; "):
                if command.lstrip().startswith("curl "):
                    commands.append(shlex.split(command, comments=True))
    return commands


def globbed_words(words: list[str]) -> list[str]:
    """The words curl would read as a URL pattern: brackets or braces outside shell variables."""
    option_values = {"-H", "-d", "-X", "--data", "--data-raw", "--data-urlencode", "-o", "-w", "-u"}
    out = []
    for previous, word in zip(["curl", *words], words[1:], strict=False):
        if previous in option_values or word.startswith("-"):
            continue
        if re.search(r"[\[\]{}]", VARIABLE.sub("", word)):
            out.append(word)
    return out


def turns_globbing_off(words: list[str]) -> bool:
    return any(w == "--globoff" or w == "--data-urlencode" or re.fullmatch(r"-[a-zA-Z]*g[a-zA-Z]*", w)
               for w in words)


def test_every_readme_curl_with_brackets_in_its_url_turns_globbing_off() -> None:
    commands = [c for path in (README, *CONNECTOR_READMES) for c in curl_commands(path.read_text())]
    with_brackets = [c for c in commands if globbed_words(c)]
    assert len(with_brackets) >= 2  # filter/sort and pass_through in the README
    assert [" ".join(c) for c in with_brackets if not turns_globbing_off(c)] == []


def test_the_bracket_check_catches_a_curl_without_g() -> None:
    words = shlex.split('''curl -s "$T?filter[status]=closed" "${C[@]}"''')
    assert globbed_words(words) == ["$T?filter[status]=closed"] and not turns_globbing_off(words)
    assert turns_globbing_off(shlex.split('''curl -sg "$T?filter[status]=closed"'''))


@pytest.fixture
def sandbox_key_and_url(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`unigate sandbox` as a subprocess on a free port: (its printed API key, its URL)."""
    trackers = tmp_path / "trackers"
    trackers.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDMINE_", "ROUNDUP_"))}
    with running_cli("sandbox", "--port", str(port), "--data-dir", str(tmp_path / "sandbox"),
                     env={**env, "UNIGATE_TRACKERS_DIR": str(trackers)}) as printed:
        yield re.search(r"api key: (\S+)", printed).group(1), f"http://127.0.0.1:{port}"


def test_the_trying_it_curls_answer_when_pasted_into_bash(sandbox_key_and_url: tuple[str, str]) -> None:
    key, url = sandbox_key_and_url
    text = README.read_text()
    section = text[text.index("## Trying it"):text.index("**Real trackers.**")]
    headers = re.search(r"`(H=\(.*?\))`", section).group(1).replace("<printed key>", key)
    prelude = [headers, f"GW={url}"]
    ran = 0
    for block in shell_blocks(section):
        prelude += [line for line in block if re.match(r"[A-Z]+=", line)]  # C=(...), T=...
        for line in block:
            if not line.startswith("curl ") or "<" in line:  # <id>, <meta.cursors.next>: yours to fill in
                continue
            command = re.sub(r"\s+#\s.*$", "", line) + " -w '\\n%{http_code}'"
            answer = subprocess.run(["bash", "-c", "\n".join([*prelude, command])], capture_output=True,
                                    text=True, timeout=60)
            body, _, status = answer.stdout.rpartition("\n")
            assert status in ("200", "201"), (line, answer.stdout, answer.stderr)
            assert "data" in orjson.loads(body), line
            ran += 1
    assert ran == 9  # four trackers; on Codimir create, filter+sort, pass_through, users, tags


def test_the_connect_page_onboarding_curls_answer_when_pasted_into_bash(sandbox_key_and_url: tuple[str, str]) -> None:
    key, url = sandbox_key_and_url
    text = README.read_text()
    vault = text[text.index("## Vault API"):text.index("## Architecture")]
    section = text[text.index("## Connect page"):text.index("## Architecture")]
    headers = next(line for block in shell_blocks(vault) for line in block if line.startswith("V=("))
    prelude = [headers.replace("<api key>", key).replace("<app id>", "sandbox-app"), f"GW={url}"]
    answers = []
    for line in (line for block in shell_blocks(section) for line in block if line.startswith("curl ")):
        answer = subprocess.run(["bash", "-c", "\n".join([*prelude, re.sub(r"\s+#\s.*$", "", line)])],
                                capture_output=True, text=True, timeout=60)
        answers.append(orjson.loads(answer.stdout))
    created, connections = answers
    assert created["data"]["session_uri"].startswith(f"{url}/connect/session/")
    assert (connections["status_code"], connections["data"]) == (200, [])   # nothing connected yet


@pytest.mark.parametrize("readme", CONNECTOR_READMES, ids=lambda p: p.parent.name)
def test_connector_readme_cites_seeds_as_material_outside_this_repository(readme: Path) -> None:
    text = readme.read_text()
    assert "/work/" not in text
    for match in re.finditer(r"seeds/", text):
        sentence = text[max(0, match.start() - 200):match.end() + 120]
        assert "`shared/seeds/" in sentence and "outside this repository" in sentence, sentence


FOLDERS = ConnectorRegistry.load().builtin_folders()   # service id -> connectors/<folder> (one folder may serve several)
INSTALLED = sorted(FOLDERS)


@pytest.mark.parametrize("service_id", INSTALLED)
def test_connector_readme_names_every_setting_credential_and_call_id_of_its_mapping(service_id: str) -> None:
    text = (ROOT / "connectors" / FOLDERS[service_id] / "README.md").read_text()
    described = info(ConnectorRegistry.load().connectors[service_id])
    names = [s["name"] for s in described["settings"] + described["credentials"]]
    call_ids = [c["call_id"] for c in described["calls"] if c["call_id"]]
    assert [n for n in names if f"`{n}`" not in text] == []
    assert [c for c in call_ids if c not in text] == []
    assert [str(s["default"]) for s in described["settings"] if s["default"] is not None
            and str(s["default"]) not in text] == []


@pytest.mark.parametrize("service_id", INSTALLED)
def test_connector_readme_call_table_is_generated_from_the_manifest_and_current(service_id: str) -> None:
    from unigate.connector_info import with_calls_table

    readme = ROOT / "connectors" / FOLDERS[service_id] / "README.md"
    text = readme.read_text()
    assert with_calls_table(text, ConnectorRegistry.load().connectors[service_id]) == text, (
        f"stale: run `unigate connectors readme {service_id} connectors/{FOLDERS[service_id]}/README.md --write`")

