"""The deployment files (deploy/) say only what the code understands: no container runtime runs here, so
the compose file, the Dockerfile and the systemd unit are read and checked against the code itself:
every setting they pass is one the code reads, and every command they run parses as a real `crm` one."""

from __future__ import annotations

import argparse
import ast
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PACKAGES = ("adapters", "assistant", "intents", "storage")
OUR_IMAGE = "crm-assistant:latest"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    return loaded


def ours(services: dict[str, Any]) -> dict[str, Any]:
    """The services that run crm-assistant (the others are PostgreSQL's own image)."""
    return {name: s for name, s in services.items() if s.get("image") == OUR_IMAGE or "build" in s}


def _constants(trees: list[ast.Module]) -> dict[str, set[str]]:
    """Module-level NAME = "text" (or NAME = OTHER_NAME) across the packages, for names given by constant."""
    found: dict[str, set[str]] = {}
    aliases: list[tuple[str, str]] = []
    for tree in trees:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                name, value = node.targets[0].id, node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.setdefault(name, set()).add(value.value)
                elif isinstance(value, ast.Name):
                    aliases.append((name, value.id))
    for name, other in aliases:
        found.setdefault(name, set()).update(found.get(other, set()))
    return found


def _is_environment(node: ast.expr) -> bool:
    """`os.environ`, `environ` or a settings parser's `env` mapping."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id in ("environ", "env")
    )


def settings_the_code_reads() -> set[str]:
    """Every name the packages look up in the environment: env.get(X), os.environ[X], os.getenv(X), with
    X a literal or a module constant."""
    trees = [ast.parse(p.read_text("utf-8")) for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    constants = _constants(trees)

    def names(arg: ast.expr) -> set[str]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return {arg.value}
        if isinstance(arg, ast.Name):
            return constants.get(arg.id, set())
        return set()

    read: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
                lookup = node.func.attr == "get" and _is_environment(node.func.value)
                if lookup or (node.func.attr == "getenv"):
                    read |= names(node.args[0])
            elif isinstance(node, ast.Subscript) and _is_environment(node.value):
                read |= names(node.slice)
    return read


def env_file_names(path: Path) -> set[str]:
    lines = path.read_text("utf-8").splitlines()
    return {
        line.split("=", 1)[0].strip() for line in lines if "=" in line and not line.lstrip().startswith("#")
    }


def parses_as_crm(argv: list[str]) -> argparse.Namespace:
    """The arguments as `crm` reads them; argparse exits with status 2 on anything it does not know."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as refused:
        pytest.fail(f"crm {' '.join(argv)} is no valid crm command (exit {refused.code})")


def dockerfile() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) for each instruction, continuation lines joined, comments left out."""
    joined = (DEPLOY / "Dockerfile").read_text("utf-8").replace("\\\n", " ")
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return [(keyword.upper(), rest.strip()) for keyword, _, rest in (line.partition(" ") for line in lines)]


def dockerfile_instruction(keyword: str) -> list[str]:
    """The exec-form (JSON) arguments of the Dockerfile's last ENTRYPOINT or CMD."""
    found = [rest for word, rest in dockerfile() if word == keyword]
    assert found, f"the Dockerfile has no {keyword}"
    value: list[str] = json.loads(found[-1])
    return value


def systemd_values(key: str) -> list[str]:
    lines = (DEPLOY / "crm-assistant.service").read_text("utf-8").splitlines()
    return [line.split("=", 1)[1].strip() for line in lines if line.startswith(f"{key}=")]


# --- the reading of the code itself --------------------------------------------------------------------


def test_the_settings_reader_finds_what_the_adapters_read() -> None:
    """A check that found nothing would pass every file: it sees literal and constant names alike."""
    read = settings_the_code_reads()
    assert {"SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "CRM_WEB_SECRET"} <= read  # env.get("...")
    assert {"CRM_DATABASE_URL", "CRM_TIMEZONE", "CRM_VOSK_MODEL", "CRM_NLU_MODEL_DIR"} <= read  # constants
    assert "POSTGRES_PASSWORD" not in read and "PATH" not in read


# --- docker compose ------------------------------------------------------------------------------------


def test_compose_runs_postgresql_with_a_healthcheck_and_a_volume() -> None:
    spec = compose()
    postgres = spec["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert postgres["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"][1:])
    [volume] = postgres["volumes"]
    name, mount = volume.split(":", 1)
    assert mount == "/var/lib/postgresql/data" and name in spec["volumes"]


def test_compose_migrates_first_then_serves_once_postgresql_is_healthy() -> None:
    services = compose()["services"]
    assert set(ours(services)) == {"init", "crm"}
    for name in ("init", "crm"):  # one image, built from the repository by deploy/Dockerfile
        assert services[name]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert services[name]["image"] == OUR_IMAGE
    assert (DEPLOY / "docker-compose.yml").parent.joinpath("..", "deploy", "Dockerfile").resolve().is_file()
    for name in ("init", "crm"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["crm"]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert parses_as_crm(services["init"]["command"]).command == "init"
    serve = parses_as_crm(services["crm"]["command"])
    assert serve.command == "serve" and serve.slack and serve.telegram and serve.web


def test_compose_passes_only_settings_the_code_reads_and_keeps_secrets_in_env_files() -> None:
    read = settings_the_code_reads()
    for name, service in ours(compose()["services"]).items():
        assert service["env_file"] == "crm.env", f"{name}: secrets come from the env file"
        assert (DEPLOY / "crm.env.example").is_file()
        inline = set(service.get("environment") or {})
        assert inline <= read, f"{name} passes settings no code reads: {inline - read}"
        secret = {
            n for n in inline if any(word in n for word in ("TOKEN", "SECRET", "PASSWORD", "DATABASE_URL"))
        }
        assert not secret, f"{name} has secrets inline: {secret}"
    assert env_file_names(DEPLOY / "crm.env.example") <= read
    assert env_file_names(DEPLOY / "postgres.env.example") == {"POSTGRES_PASSWORD"}
    assert compose()["services"]["postgres"]["env_file"] == "postgres.env"


def test_the_filled_in_env_files_are_never_committed() -> None:
    ignored = (DEPLOY / ".gitignore").read_text("utf-8").split()
    assert "*.env" in ignored
    assert "0600" in (DEPLOY / "crm.env.example").read_text("utf-8")


def test_the_ports_compose_sets_are_the_ones_the_image_exposes() -> None:
    crm = compose()["services"]["crm"]
    exposed = next(rest.split() for word, rest in dockerfile() if word == "EXPOSE")
    ports = {crm["environment"][n] for n in ("CRM_SLACK_PORT", "CRM_TELEGRAM_PORT", "CRM_WEB_PORT")}
    assert ports == set(exposed) == set(crm["expose"])


# --- the Dockerfile ------------------------------------------------------------------------------------


def test_the_image_installs_the_package_and_runs_real_crm_commands() -> None:
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    assert "pip install" in text and "'.[slack,telegram,web,voice]'" in text
    for folder in PACKAGES:
        assert f"COPY {folder} ./{folder}" in text
    assert dockerfile_instruction("ENTRYPOINT") == ["crm"]
    assert parses_as_crm(dockerfile_instruction("CMD")).command == "serve"
    env = {
        pair.split("=", 1)[0] for word, rest in dockerfile() if word == "ENV" for pair in shlex.split(rest)
    }
    assert {"CRM_NLU_MODEL_DIR", "CRM_VOICE_CACHE"} <= env
    assert env - {"PYTHONUNBUFFERED"} <= settings_the_code_reads()


# --- systemd -------------------------------------------------------------------------------------------


def test_the_systemd_unit_migrates_then_serves_with_secrets_from_a_file() -> None:
    [start] = systemd_values("ExecStart")
    [before] = systemd_values("ExecStartPre")
    for line, command in ((start, "serve"), (before, "init")):
        binary, *argv = shlex.split(line)
        assert Path(binary).name == "crm" and Path(binary).is_absolute()
        assert parses_as_crm(argv).command == command
    assert systemd_values("EnvironmentFile") == ["/etc/crm-assistant/crm.env"]
    inline = {word.split("=", 1)[0] for value in systemd_values("Environment") for word in shlex.split(value)}
    assert inline <= settings_the_code_reads()
    assert systemd_values("User") == ["crm"] and systemd_values("Restart") == ["on-failure"]
    assert systemd_values("KillSignal") == ["SIGTERM"]  # crm serve stops cleanly on it
