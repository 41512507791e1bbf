"""deploy/ against the Kubernetes schemas (offline, one pinned version) and our own rules."""

import shutil

import pytest
import yaml
from kubernetes_validate import utils as kubernetes_validate

from tests.deploy.manifests import (
    DEPLOY,
    KUBERNETES_VERSION,
    ROOT,
    load,
    pinned,
    problems,
    resources,
    schema_problems,
)


def test_every_manifest_passes_the_schema_and_our_rules():
    assert problems(DEPLOY) == []


def test_the_schema_check_covers_every_resource_kustomize_applies():
    files = load(DEPLOY)
    kinds = sorted({doc["kind"] for _, doc in resources(files)})
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "Ingress",
        "Namespace",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "Service",
    ]
    assert KUBERNETES_VERSION == "1.28.0"
    [rasa] = [
        doc
        for _, doc in resources(files)
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "rasa"
    ]
    assert rasa["spec"]["replicas"] >= 2


def test_the_cached_schema_check_agrees_with_kubernetes_validate():
    """Our check reads kubernetes-validate's own strict schemas; its `validate` says the same.

    (On the Service: its `validate` takes seconds per Deployment with jsonschema 4.17.)
    """
    [_, service, _] = load(DEPLOY)["rasa.yaml"]
    assert service["kind"] == "Service" and schema_problems("rasa.yaml", service) == []
    assert kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True) == "1.28"
    broken = yaml.safe_load(yaml.safe_dump(service))
    broken["spec"]["sessionAffinty"] = broken["spec"].pop("sessionAffinity")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    [problem] = schema_problems("rasa.yaml", broken)
    assert "sessionAffinty" in problem and "schema: spec" in problem


def test_images_count_as_pinned_only_with_a_tag_or_digest():
    assert pinned("registry.example.com/shop-assist:0.1.0")
    assert pinned("python:3.10.15-slim-bookworm")
    assert pinned("shop-assist@sha256:" + "a" * 64)
    assert not pinned("shop-assist")
    assert not pinned("shop-assist:latest")
    assert not pinned("registry.example.com:5000/shop-assist")


def copy_of_deploy(tmp_path):
    """deploy/ and the endpoints file it generates its ConfigMap from, as laid out in the repo."""
    shutil.copy(ROOT / "endpoints.scale-out.yml", tmp_path / "endpoints.scale-out.yml")
    return shutil.copytree(DEPLOY, tmp_path / "deploy")


def test_the_lock_store_in_the_endpoints_the_cluster_gets_must_be_the_atomic_one(tmp_path):
    copy = copy_of_deploy(tmp_path)
    endpoints = tmp_path / "endpoints.scale-out.yml"
    endpoints.write_text(
        endpoints.read_text(encoding="utf-8").replace(
            "type: bot.locks.redis_atomic.AtomicRedisLockStore", "type: redis"
        ),
        encoding="utf-8",
    )
    assert any("lock_store must be" in problem for problem in problems(copy))


def _edit(folder, name, change):
    path = folder / name
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    change(docs)
    path.write_text(yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _container(docs, index=0):
    return docs[0]["spec"]["template"]["spec"]["containers"][index]


def _set(mapping, path, value):
    for key in path[:-1]:
        mapping = mapping[key]
    mapping[path[-1]] = value


BREAKAGES = {
    "a field of the wrong type": (
        "rasa.yaml",
        lambda docs: _set(docs[0], ["spec", "replicas"], "two"),
        "schema: spec.replicas",
    ),
    "a misspelt field": (
        "actions.yaml",
        lambda docs: _container(docs).update(readinesProbe=_container(docs).pop("readinessProbe")),
        "schema: spec.template.spec.containers.0",
    ),
    "a missing required field": (
        "web.yaml",
        lambda docs: docs[0]["spec"].pop("selector"),
        "schema: spec: 'selector' is a required property",
    ),
    "a container without a liveness probe": (
        "web.yaml",
        lambda docs: _container(docs).pop("livenessProbe"),
        "container web: no livenessProbe",
    ),
    "Rasa probed on its token-protected /status": (
        "rasa.yaml",
        lambda docs: _set(_container(docs), ["readinessProbe", "httpGet", "path"], "/status"),
        "readinessProbe must GET /",
    ),
    "a password written into the manifest": (
        "rasa.yaml",
        lambda docs: _container(docs)["env"].append(
            {"name": "TRACKER_DB_PASSWORD", "value": "hunter2"}
        ),
        "TRACKER_DB_PASSWORD has a literal value",
    ),
    "a password in a ConfigMap URL": (
        "settings.yaml",
        lambda docs: _set(docs[0], ["data", "BROKER"], "amqp://shop:hunter2@rabbitmq:5672/"),
        "holds a URL with a password",
    ),
    "an image that follows latest": (
        "actions.yaml",
        lambda docs: _set(_container(docs), ["image"], "registry.example.com/shop-assist:latest"),
        "is not pinned",
    ),
    "one Rasa replica": (
        "rasa.yaml",
        lambda docs: _set(docs[0], ["spec", "replicas"], 1),
        "needs at least 2 replicas",
    ),
    "socket.io without sticky sessions": (
        "ingress.yaml",
        lambda docs: docs[0]["metadata"]["annotations"].pop("nginx.ingress.kubernetes.io/affinity"),
        "/socket.io must go to the rasa Service with cookie affinity",
    ),
    "a secret key missing from the example": (
        "secret.example.yaml",
        lambda docs: docs[0]["stringData"].pop("REDIS_PASSWORD"),
        "key REDIS_PASSWORD is read by a Deployment but not listed",
    ),
    "a real value in the secret example": (
        "secret.example.yaml",
        lambda docs: _set(docs[0], ["stringData", "RASA_TOKEN"], "s3cr3t-t0ken"),
        "RASA_TOKEN is not a placeholder",
    ),
    "the endpoints ConfigMap generated from a file that is not there": (
        "kustomization.yaml",
        lambda docs: _set(
            docs[0]["configMapGenerator"][0], ["files"], ["endpoints.yml=endpoints.scale-out.yml"]
        ),
        "configMapGenerator rasa-endpoints must read",
    ),
    "Rasa told to read another endpoints file": (
        "rasa.yaml",
        lambda docs: _set(_container(docs), ["args", 8], "/app/endpoints.yml"),
        "is not the mounted rasa-endpoints file",
    ),
    "a command naming no module": (
        "web.yaml",
        lambda docs: _set(_container(docs), ["command"], ["python", "-m", "bot.webapp"]),
        "names no module of this repository",
    ),
    "a Service selecting no pods": (
        "actions.yaml",
        lambda docs: _set(docs[1]["spec"], ["selector", "app.kubernetes.io/component"], "action"),
        "Service actions: selects no pod",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_copy_of_the_manifests_fails(tmp_path, breakage):
    name, change, expected = BREAKAGES[breakage]
    copy = copy_of_deploy(tmp_path)  # passes: test_every_manifest_passes_the_schema_and_our_rules
    _edit(copy, name, change)
    found = problems(copy)
    assert any(expected in problem for problem in found), found


def test_a_manifest_left_out_of_the_kustomization_or_a_stray_secret_fails(tmp_path):
    copy = copy_of_deploy(tmp_path)
    shutil.copy(copy / "secret.example.yaml", copy / "secret.yaml")
    found = problems(copy)
    assert any("kustomization.yaml: resources" in problem for problem in found), found
    assert any("a Secret is applied from git" in problem for problem in found), found
    (copy / "Dockerfile").write_text("FROM python:3.10\nUSER root\n")
    assert any("USER must be 10001" in problem for problem in problems(copy))
