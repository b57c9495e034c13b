"""The StartOS package and the container image, checked without Node, Docker or start-cli: the files a build needs,
the manifest id as the SDK's make rules read it, one runtime package list, and the CLI output the package's actions
read (`inventory check --json`, `keys create`, `keys list`) from the real `sparkdeck` binary."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from e2e_support import REPO_ROOT, SPARKDECK_BIN

PACKAGE = REPO_ROOT / "package"
STARTOS = PACKAGE / "startos"
RUNTIME_LIST = "package/runtime-packages.txt"

REQUIRED = [
    "Dockerfile",
    ".dockerignore",
    RUNTIME_LIST,
    "scripts/check-image",
    "package/Makefile",
    "package/package.json",
    "package/tsconfig.json",
    "package/README.md",
    "package/instructions.md",
    "package/LICENSE",
    "package/icon.svg",
    "package/startos/index.ts",
    "package/startos/sdk.ts",
    "package/startos/manifest/index.ts",
    "package/startos/main.ts",
    "package/startos/interfaces.ts",
    "package/startos/backups.ts",
    "package/startos/dependencies.ts",
    "package/startos/init/index.ts",
    "package/startos/actions/index.ts",
    "package/startos/versions/index.ts",
]


def read(relative: str) -> str:
    return (REPO_ROOT / relative).read_text(encoding="utf-8")


def make_rules_package_id(manifest: str) -> str:
    """What s9pk.mk's `awk -F"'" '/id:/ {print $2}' startos/manifest/index.ts` gives make (words joined by $(shell))."""
    fields = []
    for line in manifest.splitlines():
        if "id:" in line:
            parts = line.split("'")
            fields.append(parts[1] if len(parts) > 1 else "")
    return " ".join(" ".join(fields).split())


def runtime_packages() -> list[str]:
    return [re.sub(r"#.*", "", line).strip() for line in read(RUNTIME_LIST).splitlines() if re.sub(r"#.*", "", line).strip()]


def test_every_file_a_package_build_needs_is_there():
    missing = [path for path in REQUIRED if not (REPO_ROOT / path).is_file()]
    assert not missing, f"missing: {missing}"
    assert os.access(REPO_ROOT / "scripts/check-image", os.X_OK), "scripts/check-image is not executable"
    actions = sorted(path.stem for path in (STARTOS / "actions").glob("*.ts"))
    for action in ["configureCluster", "sshKey", "createApiKey", "reapplyPatches"]:
        assert action in actions, f"no action file {action}.ts (have {actions})"
        assert f"addAction({action})" in read("package/startos/actions/index.ts"), f"{action} is not registered"


def test_the_make_rules_read_the_package_id_sparkdeck():
    assert make_rules_package_id(read("package/startos/manifest/index.ts")) == "sparkdeck"


def test_the_id_reader_fails_on_a_double_quoted_or_second_id_line():
    # The reader above must be able to fail the way make would, or the test before it proves nothing.
    assert make_rules_package_id('  id: "sparkdeck",\n') == ""
    assert make_rules_package_id("  id: 'sparkdeck',\n  // valid: yes\n") == "sparkdeck"  # a line without quotes adds nothing...
    assert make_rules_package_id("  id: 'sparkdeck',\n  valid: 'yes',\n") == "sparkdeck yes"  # ...this one does


def test_the_makefile_builds_the_arches_the_manifest_names():
    makefile = read("package/Makefile")
    assert "include node_modules/@start9labs/start-sdk/s9pk.mk" in makefile
    assert re.search(r"^ARCHES := x86 arm$", makefile, re.M), "ARCHES must be x86 arm (make x86, make arm)"
    manifest = read("package/startos/manifest/index.ts")
    assert re.search(r"arch: \['x86_64', 'aarch64'\]", manifest)


def test_the_sdk_is_pinned_exactly():
    package = json.loads(read("package/package.json"))
    version = package["dependencies"]["@start9labs/start-sdk"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"start-sdk must be pinned exactly, got {version!r}"


def test_the_image_is_built_from_the_repository_dockerfile_with_the_volume_main():
    manifest = read("package/startos/manifest/index.ts")
    build = re.search(r"dockerBuild: \{ workdir: '([^']+)', dockerfile: '([^']+)' \}", manifest)
    assert build, "the image must come from dockerBuild"
    # start-cli runs docker from package/: both paths are relative to it.
    assert (PACKAGE / build.group(1)).resolve() == REPO_ROOT
    assert (PACKAGE / build.group(2)).resolve() == REPO_ROOT / "Dockerfile"
    assert "volumes: ['main']" in manifest
    assert "volumeId: 'main'" in read("package/startos/utils.ts")
    assert "ofVolumes('main')" in read("package/startos/backups.ts")


def test_the_version_records_are_wired_into_the_manifest_and_init():
    exported = re.search(r"export const (\w+) = VersionGraph\.of\(", read("package/startos/versions/index.ts"))
    assert exported, "versions/index.ts exports no VersionGraph"
    name = exported.group(1)
    for entry in ["package/startos/index.ts", "package/startos/init/index.ts"]:
        assert re.search(rf"import \{{ {name} \}} from '\.\.?/versions'", read(entry)), f"{entry} does not import {name}"


def test_the_dockerfile_and_check_image_read_one_package_list():
    packages = runtime_packages()
    for needed in ["openssh-client", "ffmpeg"]:
        assert needed in packages
    dockerfile = read("Dockerfile")
    runtime_stage = dockerfile.split("\nFROM ")[-1]
    assert f"COPY {RUNTIME_LIST} " in runtime_stage
    assert runtime_stage.count("apt-get install") == 1, "the runtime stage installs packages only from the list"
    assert runtime_stage.startswith("${RUNTIME_IMAGE}\n") and "ARG RUNTIME_IMAGE=debian:bookworm-slim" in dockerfile
    check_image = read("scripts/check-image")
    assert f"LIST={RUNTIME_LIST}" in check_image and "debootstrap --variant=minbase" in check_image
    assert re.search(r"^USER (\w+)$", runtime_stage, re.M).group(1) != "root"
    assert "HEALTHCHECK" in runtime_stage and "/readyz" in runtime_stage and "EXPOSE 9999" in runtime_stage


def test_no_action_runs_a_shell():
    # Values from the owner reach commands as argv elements, never through a shell line.
    for source in STARTOS.rglob("*.ts"):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"['\"](/bin/)?(ba)?sh['\"]\s*,\s*['\"]-c['\"]", text), f"{source} runs a shell"
        assert "child_process" not in text, f"{source} runs processes outside the SDK's subcontainers"


# ------------------------------------------------------------------------------------------- the CLI the actions read

def sparkdeck(*args: str) -> subprocess.CompletedProcess[str]:
    binary = Path(SPARKDECK_BIN)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"no sparkdeck binary at {binary} (run `swift build`, or set SPARKDECK_BIN)", pytrace=False)
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=60)


def filled_example(tmp_path: Path) -> Path:
    """examples/inventory.yaml with its placeholders filled, as the Configure cluster action fills them."""
    text = read("examples/inventory.yaml")
    text = text.replace("<spark-1-ip>", "192.0.2.10").replace("<spark-2-ip>", "192.0.2.11").replace("<ssh-user>", "spark")
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def test_inventory_check_passes_the_filled_example(tmp_path: Path):
    path = filled_example(tmp_path)
    human = sparkdeck("inventory", "check", str(path))
    assert human.returncode == 0, human.stdout + human.stderr
    assert human.stdout.strip().startswith(f"inventory {path} is valid: 2 nodes, 6 services, 3 models, 1 action")
    result = sparkdeck("inventory", "check", "--json", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    check = json.loads(result.stdout.strip().splitlines()[-1])
    assert check["valid"] is True and check["problems"] == [] and check.get("message") is None
    assert check["nodes"] == [{"id": "spark-1", "host": "192.0.2.10"}, {"id": "spark-2", "host": "192.0.2.11"}]
    assert [action["id"] for action in check["actions"]] == ["restart-asr"]
    assert check["actions"][0]["description"].startswith("Restarts parakeet-asr on spark-2")


def test_inventory_check_lists_every_problem_and_exits_1(tmp_path: Path):
    example = REPO_ROOT / "examples/inventory.yaml"
    human = sparkdeck("inventory", "check", str(example))
    assert human.returncode == 1
    assert f"inventory {example} is not valid" in human.stdout
    result = sparkdeck("inventory", "check", "--json", str(example))
    assert result.returncode == 1
    check = json.loads(result.stdout.strip().splitlines()[-1])
    assert check["valid"] is False and check["nodes"] == [] and check["actions"] == []
    placeholders = [problem for problem in check["problems"] if "still holds the placeholder" in problem]
    assert len(placeholders) == 2, check["problems"]
    assert re.match(r"^\d+: nodes\[0\]\.host: still holds the placeholder <spark-1-ip>", placeholders[0])
    # The same words `serve` prints, file and all.
    assert check["message"].startswith(f"inventory {example} is not valid")

    broken = tmp_path / "broken.yaml"
    broken.write_text(read("examples/inventory.yaml").replace("port: 8000", "port: 88888"))
    problems = json.loads(sparkdeck("inventory", "check", "--json", str(broken)).stdout)["problems"]
    assert any("services[1].port: must be from 1 to 65535, got 88888" in problem for problem in problems), problems

    absent = json.loads(sparkdeck("inventory", "check", "--json", str(tmp_path / "none.yaml")).stdout)
    assert absent["valid"] is False and "cannot be read" in absent["problems"][0]


def test_keys_cli_prints_what_the_package_reads(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    empty = sparkdeck("keys", "list", "--data", str(data))
    assert empty.returncode == 0 and "No API keys" in empty.stdout
    created = sparkdeck("keys", "create", "--name", "notes app", "--scopes", "chat,admin", "--data", str(data))
    assert created.returncode == 0, created.stdout + created.stderr
    # The Create API key action and the package's own admin key read these two lines (startos/cli.ts).
    key_id = re.search(r"^Created (\S+) ", created.stdout, re.M).group(1)
    key = re.search(r"^Key \(shown only now\): (\S+)\s*$", created.stdout, re.M).group(1)
    assert key_id and len(key) >= 20
    listed = sparkdeck("keys", "list", "--data", str(data)).stdout
    active = [fields[0] for fields in (line.split() for line in listed.splitlines()) if len(fields) >= 3 and fields[2] == "active"]
    assert active == [key_id]
    assert sparkdeck("keys", "revoke", key_id, "--data", str(data)).returncode == 0
    listed = sparkdeck("keys", "list", "--data", str(data)).stdout
    assert [line.split()[2] for line in listed.splitlines() if line.startswith(key_id)] == ["revoked"]
