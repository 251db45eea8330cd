"""The README is a short, accurate start: two commands for a fresh machine, the Docker command,
the settings a newcomer needs, links that resolve inside the repository; the depth lives in docs/,
where every benchmark table names the command that reproduces it and no commit hash stands in
for a description."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
OURS = ["README.md", "docs/api.md", "docs/operations.md", "docs/purchases.md", "docs/benchmarks.md"]
# 7 to 12 hex digits with at least one letter and one digit: how a commit hash is quoted.
HASH = re.compile(r"(?<![\w-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,12}(?![\w-])")


def test_short_and_starts_with_the_two_commands():
    assert len(README.splitlines()) <= 200
    first_block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    assert "docker compose up --build" in README


def test_ci_runs_the_test_command_the_readme_gives():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert "`make test` (what CI runs, through `.ci/run`)" in README


@pytest.mark.parametrize(
    "words", ["BIND=0.0.0.0", "`SHOP_TIME_ZONE`", "`SHOP_CURRENCY`", "refresh_summaries", "/docs"]
)
def test_says_what_a_newcomer_needs(words):
    assert words in README


def test_links_resolve_inside_the_repository():
    assert "../shared" not in README and "api-contract" not in README
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not link.startswith("http")]
    assert {"docs/api.md", "docs/operations.md", "docs/benchmarks.md"} <= set(local)
    for link in local:
        assert (ROOT / link).is_file(), link
    for doc in OURS[1:]:
        text = (ROOT / doc).read_text()
        assert "../shared" not in text, doc
        for link in re.findall(r"\]\(([^)#:]+\.md)", text):
            assert (ROOT / "docs" / link).is_file(), (doc, link)


@pytest.mark.parametrize("name", OURS)
def test_no_commit_hashes(name):
    assert HASH.findall((ROOT / name).read_text()) == [], name


def test_every_benchmark_table_names_its_command():
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    command = re.compile(
        r"`(?:\.venv/bin/)?(?:python -m )?bench\.\w+[^`]*`"
        r"|`make test`|`scripts/services\.sh status`"
    )
    tables = 0
    since_heading = ""
    in_table = False
    for line in text.splitlines():
        if line.startswith("#"):
            since_heading = ""
        if line.startswith("|") and not in_table:
            tables += 1
            assert command.search(since_heading), f"table without its command: {line}"
        in_table = line.startswith("|")
        since_heading += line + "\n"
    assert tables >= 6
