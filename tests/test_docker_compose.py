"""docker-compose.yml, the documented production stack, validated by Compose itself.

The test needs no Docker daemon: Debian's ``docker-compose`` (Compose v1.29) validates and normalises a
file without one, and the assertions read its normalised output, not our own parse of the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.peers

REPO_ROOT = Path(__file__).resolve().parent.parent
ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:9.2.0"
POSTGRES_IMAGE = "postgres:17"
# The variables the stack reads from its environment; unset in every run here, so that a developer's own
# settings cannot change what the tests see.
_STACK_VARIABLES = ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")


def _docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail("docker-compose is not installed: run `sudo bash scripts/install-test-deps.sh`")
    return found


def _compose_config(directory: Path, *options: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in _STACK_VARIABLES}
    return subprocess.run(
        [_docker_compose(), *options, "config"],
        cwd=directory,
        env={**env, **variables},
        capture_output=True,
        text=True,
        check=False,
    )


def _as_json(yaml_text: str) -> dict[str, Any]:
    """Parse YAML with the interpreter Debian's docker-compose runs on, which always has PyYAML (a
    dependency of docker-compose); the project's own environment has no YAML parser."""
    interpreter = Path(_docker_compose()).read_text().splitlines()[0].removeprefix("#!").split()
    script = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"
    converted = subprocess.run(
        [*interpreter, "-c", script], input=yaml_text, capture_output=True, text=True, check=True
    )
    config: dict[str, Any] = json.loads(converted.stdout)
    return config


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = _compose_config(REPO_ROOT)
    assert result.returncode == 0, result.stderr
    return _as_json(result.stdout)


def _bytes(size: str) -> int:
    """A Compose/JVM size such as ``2g``, ``512m`` or ``1024`` in bytes."""
    match = re.fullmatch(r"(\d+)([kmg]?)b?", size.lower())
    assert match is not None, size
    return int(match.group(1)) << 10 * " kmg".index(match.group(2) or " ")


def test_compose_rejects_an_invalid_file(tmp_path: Path) -> None:
    """The validation this file relies on is real: a misspelt option is refused."""
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "    mem_limit:" in text
    (tmp_path / "docker-compose.yml").write_text(text.replace("    mem_limit:", "    mem_limitt:"))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = _compose_config(tmp_path)
    assert result.returncode != 0
    assert "mem_limitt" in result.stderr


def test_elasticsearch_service(config: dict[str, Any]) -> None:
    node = config["services"]["elasticsearch"]
    assert node["image"] == ES_IMAGE
    assert node["environment"]["discovery.type"] == "single-node"
    assert "_cluster/health" in " ".join(node["healthcheck"]["test"])
    heap = re.search(r"-Xmx(\w+)", node["environment"]["ES_JAVA_OPTS"])
    assert heap is not None
    assert 2 * _bytes(heap.group(1)) <= _bytes(str(node["mem_limit"]))  # room for Lucene's file cache
    volume, _, target = node["volumes"][0].partition(":")
    assert volume in config["volumes"] and target.startswith("/usr/share/elasticsearch/data")


def test_elasticsearch_without_security_is_private(config: dict[str, Any]) -> None:
    node = config["services"]["elasticsearch"]
    if node["environment"].get("xpack.security.enabled") != "false":
        return
    assert "ports" not in node
    assert all(config["networks"][name].get("internal") is True for name in node["networks"])
    assert "private network" in (REPO_ROOT / "docker-compose.yml").read_text()


def test_postgres_service(config: dict[str, Any]) -> None:
    database = config["services"]["postgres"]
    assert database["image"] == POSTGRES_IMAGE
    check = database["healthcheck"]["test"]
    assert check[0] == "CMD-SHELL" and check[1].startswith("pg_isready ")
    volume, _, target = database["volumes"][0].partition(":")
    assert volume in config["volumes"] and target.startswith("/var/lib/postgresql/data")
    assert volume not in {entry.partition(":")[0] for entry in config["services"]["elasticsearch"]["volumes"]}


def test_postgres_is_private(config: dict[str, Any]) -> None:
    database = config["services"]["postgres"]
    assert "ports" not in database
    assert list(database["networks"]) == ["backend"]
    assert config["networks"]["backend"].get("internal") is True


def _store_credentials(config: dict[str, Any]) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
    """(user, password, database) as the app's UNICAT_STORE names them, and as the postgres service
    creates them."""
    store = urlsplit(config["services"]["app"]["environment"]["UNICAT_STORE"])
    created = config["services"]["postgres"]["environment"]
    return (
        (store.username, store.password, store.path.removeprefix("/")),
        (created["POSTGRES_USER"], created["POSTGRES_PASSWORD"], created["POSTGRES_DB"]),
    )


def test_the_app_connects_as_the_user_postgres_creates(config: dict[str, Any]) -> None:
    named, created = _store_credentials(config)
    assert named == created == ("unicat", "unicat", "unicat")
    chosen = {"POSTGRES_USER": "catalogue", "POSTGRES_PASSWORD": "n0t-the-default", "POSTGRES_DB": "union"}
    result = _compose_config(REPO_ROOT, **chosen)
    assert result.returncode == 0, result.stderr
    named, created = _store_credentials(_as_json(result.stdout))
    assert named == created == ("catalogue", "n0t-the-default", "union")


def test_app_service(config: dict[str, Any]) -> None:
    app = config["services"]["app"]
    assert Path(app["build"]["context"]) == REPO_ROOT
    assert app["command"][:4] == ["unicat", "serve", "--host", "0.0.0.0"]
    assert app["environment"]["UNICAT_INDEX"] == "http://elasticsearch:9200"
    assert urlsplit(app["environment"]["UNICAT_STORE"]).hostname == "postgres"
    assert app["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "elasticsearch": {"condition": "service_healthy"},
    }
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    assert [port["target"] for port in app["ports"]] == [8080]
    assert set(config["services"]["elasticsearch"]["networks"]) <= set(app["networks"])


def test_dockerfile_installs_the_project_on_python_311_slim() -> None:
    lines = (REPO_ROOT / "Dockerfile").read_text().splitlines()
    stages = [line for line in lines if line.startswith("FROM ")]
    # A build stage with a compiler, so setup.py compiles the hot modules; the served image is slim.
    assert stages == ["FROM python:3.11-slim AS build", "FROM python:3.11-slim"]
    assert "COPY pyproject.toml setup.py README.md ./" in lines
    assert "RUN pip wheel --no-cache-dir --wheel-dir /wheels ." in lines
    assert any(
        line.startswith("RUN pip install --no-cache-dir --no-index --find-links /wheels unicat")
        for line in lines
    )
    # Every package the project is built from is copied into the build stage (pyproject.toml's list).
    included = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"][
        "find"
    ]
    for package in {pattern.split(".")[0].rstrip("*") for pattern in included["include"]}:
        assert f"COPY {package} {package}" in lines, package
    # Live Z39.50 targets are searched through YAZ's ZOOM C library, loaded at run time.
    assert any("libyaz5" in line for line in lines[lines.index("FROM python:3.11-slim") :])
    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    assert "**/*.so" in ignored  # an editable install's compiled files must not shadow the image's
    for line in lines:
        if line.startswith("COPY ") and not line.startswith("COPY --from="):
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (REPO_ROOT / source).exists(), source
                assert source not in ignored, source


CLUSTER_NODES = ("es01", "es02", "es03")


@pytest.fixture(scope="module")
def cluster_config() -> dict[str, Any]:
    # Compose v1.29 knows profiles (since 1.28): it validates the file with the profile on.
    result = _compose_config(REPO_ROOT, "--profile", "cluster")
    assert result.returncode == 0, result.stderr
    return _as_json(result.stdout)


def test_the_cluster_profile_holds_three_nodes_and_an_app_and_nothing_else(
    config: dict[str, Any], cluster_config: dict[str, Any]
) -> None:
    profiled = {name for name, service in config["services"].items() if service.get("profiles")}
    assert profiled == {*CLUSTER_NODES, "app-cluster"}
    for name in profiled:
        assert cluster_config["services"][name]["profiles"] == ["cluster"]
    # The default stack is untouched by the profile.
    assert not {"elasticsearch", "postgres", "app"} & profiled


def test_the_cluster_nodes_find_each_other(cluster_config: dict[str, Any]) -> None:
    volumes: set[str] = set()
    for name in CLUSTER_NODES:
        node = cluster_config["services"][name]
        environment = node["environment"]
        assert node["image"] == ES_IMAGE
        assert environment["node.name"] == name
        assert environment["cluster.name"] == "unicat-cluster"
        assert set(environment["discovery.seed_hosts"].split(",")) == set(CLUSTER_NODES) - {name}
        assert environment["cluster.initial_master_nodes"].split(",") == list(CLUSTER_NODES)
        assert "discovery.type" not in environment
        heap = re.search(r"-Xmx(\w+)", environment["ES_JAVA_OPTS"])
        assert heap is not None
        assert 2 * _bytes(heap.group(1)) <= _bytes(str(node["mem_limit"]))
        check = " ".join(node["healthcheck"]["test"])
        assert "_cluster/health" in check and '"number_of_nodes":3' in check
        volume, _, target = node["volumes"][0].partition(":")
        assert volume in cluster_config["volumes"] and target.startswith("/usr/share/elasticsearch/data")
        volumes.add(volume)
        # Private, as the single node: security is off only on the internal network.
        assert environment["xpack.security.enabled"] == "false" and "ports" not in node
        assert all(cluster_config["networks"][net].get("internal") is True for net in node["networks"])
    assert len(volumes) == len(CLUSTER_NODES)  # each node its own data


def test_the_cluster_app_names_every_node_and_keeps_a_replica(cluster_config: dict[str, Any]) -> None:
    app = cluster_config["services"]["app-cluster"]
    nodes = app["environment"]["UNICAT_INDEX"].split(",")
    assert [urlsplit(node).hostname for node in nodes] == list(CLUSTER_NODES)
    assert int(app["environment"]["UNICAT_ES_REPLICAS"]) == 1
    assert (
        app["environment"]["UNICAT_STORE"] == cluster_config["services"]["app"]["environment"]["UNICAT_STORE"]
    )
    assert app["depends_on"] == {
        name: {"condition": "service_healthy"} for name in ("postgres", *CLUSTER_NODES)
    }
    assert [port["published"] for port in app["ports"]] != [
        port["published"] for port in cluster_config["services"]["app"]["ports"]
    ]
    assert app["image"] == cluster_config["services"]["app"]["image"]
    assert Path(app["build"]["context"]) == REPO_ROOT  # the cluster's stack may be started alone
