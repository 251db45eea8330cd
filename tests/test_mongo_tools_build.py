"""mongodump/mongorestore: the local build is static (no ELF interpreter, no dynamic section,
cgo off) at the version services.sh pins, and the Dockerfile builds them the same way in a Go
stage and copies them from that stage only."""

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("mongodump", "mongorestore")
PT_DYNAMIC, PT_INTERP = 2, 3


def services_value(name: str) -> str:
    text = (ROOT / "scripts" / "services.sh").read_text()
    return re.search(rf"^{name}=(\S+)$", text, re.M).group(1)


def program_header_types(path: Path) -> set[int]:
    """The p_type of every program header of a 64-bit little-endian ELF file."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, f"{path}: not ELF64 LE"
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return {struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)}


@pytest.fixture(scope="module")
def built() -> dict[str, Path]:
    """The tools scripts/services.sh installs (make test ran `services.sh up`)."""
    bin_dir = Path(os.environ.get("SHOPSITE_CACHE", "/var/tmp/shopsite-cache")) / "bin"
    paths = {tool: bin_dir / tool for tool in TOOLS}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    assert not missing, f"not built: {missing} (scripts/services.sh install builds them)"
    return paths


@pytest.mark.parametrize("tool", TOOLS)
def test_local_build_is_static_at_the_pinned_version(built, tool):
    path = built[tool]
    types = program_header_types(path)
    assert PT_INTERP not in types, f"{tool} needs a dynamic loader"
    assert PT_DYNAMIC not in types, f"{tool} links shared libraries"
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    assert f"version: {services_value('MONGO_TOOLS_VERSION')}" in version.stdout
    go = shutil.which("go") or "/usr/local/go/bin/go"
    info = subprocess.run([go, "version", "-m", path], capture_output=True, text=True, timeout=30)
    assert info.returncode == 0, info.stderr
    assert re.search(r"^\s+build\s+CGO_ENABLED=0$", info.stdout, re.M), info.stdout
    pinned = re.search(
        r"github\.com/mongodb/mongo-tools (\S+)",
        (ROOT / "scripts" / "mongo-tools" / "go.mod").read_text(),
    ).group(1)
    assert re.search(rf"^\s+mod\s+github\.com/mongodb/mongo-tools\s+{pinned}\s", info.stdout, re.M)


def stages(dockerfile: str) -> list[dict]:
    """Each FROM stage: its image, name and instructions (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", dockerfile)
    found: list[dict] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if match:
            found.append({"image": match.group(1), "name": match.group(2), "lines": []})
        else:
            found[-1]["lines"].append(line)
    return found


def test_dockerfile_builds_the_tools_in_a_go_stage_and_copies_them_from_it_only():
    all_stages = stages((ROOT / "Dockerfile").read_text())
    builder = next(s for s in all_stages if s["name"] == "mongotools")
    final = all_stages[-1]
    assert builder["image"].startswith("golang:")
    assert not any(s["image"].startswith("mongo:") for s in all_stages)
    builder_text = "\n".join(builder["lines"])
    assert f"ARG MONGO_TOOLS_VERSION={services_value('MONGO_TOOLS_VERSION')}" in builder_text
    assert "COPY scripts/mongo-tools/ ./" in builder_text
    assert re.search(
        r"RUN bash build\.sh \"\$MONGO_TOOLS_VERSION\" /out mongodump mongorestore", builder_text
    )

    copies = [line for s in all_stages for line in s["lines"] if "--from=" in line]
    assert copies == [line for line in final["lines"] if "--from=" in line]
    assert all(re.match(r"COPY --from=mongotools\s", line) for line in copies), copies
    for tool in TOOLS:
        assert any(f"/out/{tool}" in line for line in copies), tool
    # Nothing else brings a MongoDB tool into the image.
    final_text = "\n".join(final["lines"])
    assert not re.search(r"apt-get install[^\n]*mongo", final_text)


def test_the_shared_build_script_is_static_and_used_by_services_sh():
    build = (ROOT / "scripts" / "mongo-tools" / "build.sh").read_text()
    assert re.search(r"^\s*CGO_ENABLED=0 go build ", build, re.M)
    services = (ROOT / "scripts" / "services.sh").read_text()
    assert (
        'bash "$ROOT/scripts/mongo-tools/build.sh" "$MONGO_TOOLS_VERSION" "$BIN" "$tool"'
        in services
    )
