"""The checks on deploy/: Kubernetes schemas (kubernetes-validate, offline) and our own rules.

`problems(folder)` answers every problem found, one readable line each; an empty list means the
folder is fit to `kubectl apply -k`. The tests run it on deploy/ and on broken copies of it.
"""

import functools
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.28.0"  # the newest schemas kubernetes-validate 1.28.3 ships
# Its strict schemas (no unknown fields): one file per kind and API version, each a $ref into
# _definitions.json (1 MB), read once here instead of once per resource as its `validate` does.
SCHEMAS = (
    Path(kubernetes_validate.__file__).parent
    / "kubernetes-json-schema"
    / f"v{KUBERNETES_VERSION}-local-strict"
)
KUSTOMIZATION = "kustomization.yaml"
SECRET_EXAMPLE = "secret.example.yaml"
SECRET_NAME = "shop-assist-secrets"
PLACEHOLDER = "REPLACE_ME"
SECRET_WORDS = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|SIGNING_KEY|API_KEY|(DATABASE|REDIS)_URL")
STICKY_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/affinity": "cookie",
    "nginx.ingress.kubernetes.io/affinity-mode": "persistent",
}
WEBSOCKET_TIMEOUTS = (
    "nginx.ingress.kubernetes.io/proxy-read-timeout",
    "nginx.ingress.kubernetes.io/proxy-send-timeout",
)
PROBE_PATHS = {"rasa": "/", "actions": "/health", "web": "/health"}
MIN_REPLICAS = {"rasa": 2}
ATOMIC_LOCK_STORE = "bot.locks.redis_atomic.AtomicRedisLockStore"


def load(folder: Path) -> dict:
    """Every YAML file of the folder: {file name: [documents]}."""
    return {
        path.name: [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
        for path in sorted(folder.glob("*.yaml"))
    }


def resources(files: dict) -> list:
    """(file, document) of every Kubernetes resource kustomize applies."""
    return [
        (name, doc)
        for name, docs in files.items()
        if name not in (KUSTOMIZATION, SECRET_EXAMPLE)
        for doc in docs
    ]


class _PointerResolver(jsonschema.RefResolver):
    """Resolves `#/a/b` by walking the JSON pointer.

    jsonschema 4.17 first searches the whole 1 MB document for an `$id` equal to the fragment,
    for every reference: seconds per resource. Kubernetes' schemas have no such ids.
    """

    def resolve_fragment(self, document, fragment):
        for part in [p for p in fragment.lstrip("/").split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            document = document[int(part)] if isinstance(document, list) else document[part]
        return document


@functools.lru_cache(maxsize=None)
def _definitions() -> dict:
    return json.loads((SCHEMAS / "_definitions.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def schema_validator(kind: str, api_version: str):
    """The JSON schema validator of a kind and API version (None if there is no such schema).

    Named as kubernetes-validate names its files: `rbac.authorization.k8s.io/v1` -> `rbac-v1`.
    """
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = SCHEMAS / f"{kind.lower()}-{api}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    base = SCHEMAS.as_uri() + "/"
    resolver = _PointerResolver(
        base_uri=base, referrer=schema, store={base + "_definitions.json": _definitions()}
    )
    return jsonschema.validators.validator_for(schema)(schema, resolver=resolver)


def schema_problems(name: str, doc: dict) -> list:
    """What the Kubernetes schema of the pinned version (strict: no unknown fields) says."""
    what = f"{name}: {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
    if not isinstance(doc.get("kind"), str) or not isinstance(doc.get("apiVersion"), str):
        return [f"{what}: not a Kubernetes resource (kind and apiVersion)"]
    validator = schema_validator(doc["kind"], doc["apiVersion"])
    if validator is None:
        return [f"{what}: no schema for {doc['apiVersion']} {doc['kind']}"]
    found = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path))):
        path = ".".join(str(part) for part in error.path)
        found.append(f"{what}: schema: {path}: {error.message}")
    return found


def containers(doc: dict) -> list:
    spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    return spec.get("containers") or []


def component(doc: dict) -> str:
    labels = (doc.get("metadata") or {}).get("labels") or {}
    return labels.get("app.kubernetes.io/component", "")


def _env_names(container: dict, config_maps: dict) -> set:
    names = {item.get("name") for item in container.get("env") or []}
    for source in container.get("envFrom") or []:
        ref = (source.get("configMapRef") or {}).get("name")
        names |= set((config_maps.get(ref) or {}).keys())
    return names


def _looks_secret(name: str) -> bool:
    return bool(SECRET_WORDS.search(name.upper()))


def pinned(image: str) -> bool:
    """Whether an image names a digest, or a tag other than `latest`."""
    if "@" in image:
        return re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", image) is not None
    name = image.rsplit("/", 1)[-1]
    tag = name.split(":", 1)[1] if ":" in name else ""
    return re.fullmatch(r"[\w][\w.-]{0,127}", tag) is not None and tag != "latest"


def _module_exists(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()


def container_problems(what: str, kind: str, container: dict, config_maps: dict) -> list:
    """Probes, resources, pinned image, secrets only by reference, a command that exists."""
    found = []
    ports = {port.get("name") for port in container.get("ports") or []}
    for probe_name in ("readinessProbe", "livenessProbe"):
        probe = container.get(probe_name)
        if not probe:
            found.append(f"{what}: no {probe_name}")
            continue
        http = probe.get("httpGet") or {}
        if PROBE_PATHS.get(kind) and http.get("path") != PROBE_PATHS[kind]:
            found.append(f"{what}: {probe_name} must GET {PROBE_PATHS[kind]} (no token needed)")
        if http.get("port") not in ports:
            found.append(f"{what}: {probe_name} port {http.get('port')!r} is not a named port")
    limits = (container.get("resources") or {}).get("limits") or {}
    requests = (container.get("resources") or {}).get("requests") or {}
    for part in ("cpu", "memory"):
        if part not in requests or part not in limits:
            found.append(f"{what}: resources need requests and limits for {part}")
    image = str(container.get("image") or "")
    if not pinned(image):
        found.append(f"{what}: image {image!r} is not pinned to a tag or digest")
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "value" in item and (_looks_secret(name) or PLACEHOLDER in str(item["value"])):
            found.append(f"{what}: {name} has a literal value; use a secretKeyRef")
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        if ref is not None and ref.get("name") != SECRET_NAME:
            found.append(f"{what}: {name} reads Secret {ref.get('name')!r}, not {SECRET_NAME}")
    command = list(container.get("command") or [])
    if command[:2] == ["python", "-m"] and (len(command) < 3 or not _module_exists(command[2])):
        found.append(f"{what}: command {command} names no module of this repository")
    security = container.get("securityContext") or {}
    if security.get("allowPrivilegeEscalation") is not False:
        found.append(f"{what}: securityContext must set allowPrivilegeEscalation: false")
    return found


def secret_problems(files: dict) -> list:
    """No Secret in the applied files; the example has placeholders and every key used."""
    found = []
    for name, doc in resources(files):
        if doc.get("kind") == "Secret":
            found.append(f"{name}: a Secret is applied from git; create it in the cluster instead")
        if doc.get("kind") == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                if _looks_secret(key):
                    found.append(f"{name}: ConfigMap key {key} looks secret; use the Secret")
                if re.search(r"://[^/\s:@]+:[^@\s$]+@", str(value)):
                    found.append(f"{name}: ConfigMap {key} holds a URL with a password")
    examples = files.get(SECRET_EXAMPLE) or []
    if len(examples) != 1 or examples[0].get("kind") != "Secret":
        return found + [f"{SECRET_EXAMPLE}: must hold exactly the Secret {SECRET_NAME}"]
    example = examples[0]
    values = {**(example.get("stringData") or {}), **(example.get("data") or {})}
    for key, value in values.items():
        if PLACEHOLDER not in str(value):
            found.append(f"{SECRET_EXAMPLE}: {key} is not a placeholder ({PLACEHOLDER})")
    used = set()
    for _, doc in resources(files):
        for container in containers(doc):
            for item in container.get("env") or []:
                ref = (item.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    used.add(ref.get("key"))
    for key in sorted(used - set(values)):
        found.append(f"{SECRET_EXAMPLE}: key {key} is read by a Deployment but not listed")
    return found


def problems(folder: Path = DEPLOY) -> list:
    """Every problem with the manifests in `folder` (empty: all good)."""
    files = load(folder)
    found = []
    listed = (files.get(KUSTOMIZATION) or [{}])[0].get("resources") or []
    expected = sorted(set(files) - {KUSTOMIZATION, SECRET_EXAMPLE})
    if sorted(listed) != expected:
        found.append(f"{KUSTOMIZATION}: resources {sorted(listed)} must be exactly {expected}")
    for name, docs in files.items():
        if name != KUSTOMIZATION:
            for doc in docs:
                found += schema_problems(name, doc)
    config_maps = {
        doc["metadata"]["name"]: doc.get("data") or {}
        for _, doc in resources(files)
        if doc.get("kind") == "ConfigMap"
    }
    services = {
        doc["metadata"]["name"]: doc for _, doc in resources(files) if doc.get("kind") == "Service"
    }
    deployments = {
        component(doc): doc for _, doc in resources(files) if doc.get("kind") == "Deployment"
    }
    found += secret_problems(files)
    for kind in PROBE_PATHS:
        if kind not in deployments:
            found.append(f"no Deployment of component {kind}")
    for name, doc in resources(files):
        if doc.get("kind") != "Deployment":
            continue
        kind = component(doc)
        what = f"{name}: Deployment/{doc['metadata']['name']}"
        spec = doc.get("spec") or {}
        replicas = spec.get("replicas", 1)
        if not isinstance(replicas, int) or replicas < MIN_REPLICAS.get(kind, 1):
            found.append(f"{what}: needs at least {MIN_REPLICAS[kind]} replicas")
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            found.append(f"{what}: selector does not match the pod labels")
        pod = (spec.get("template") or {}).get("spec") or {}
        if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
            found.append(f"{what}: pods must run as non-root")
        for container in containers(doc):
            found += container_problems(
                f"{what} container {container.get('name')}", kind, container, config_maps
            )
    found += rasa_problems(folder, files, config_maps, services, deployments)
    found += routing_problems(files, services, deployments)
    found += dockerfile_problems(folder, deployments)
    return found


def dockerfile_problems(folder: Path, deployments: dict) -> list:
    """The image's base is pinned and it runs as the user the pods expect."""
    path = folder / "Dockerfile"
    if not path.is_file():
        return ["Dockerfile: missing (the image the Deployments run)"]
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    found = []
    for line in lines:
        if line.upper().startswith("FROM ") and not pinned(line.split()[1]):
            found.append(f"Dockerfile: base image {line.split()[1]!r} is not pinned")
    users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
    for doc in deployments.values():
        pod = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        wanted = str((pod.get("securityContext") or {}).get("runAsUser"))
        if not users or users[-1] != wanted:
            found.append(f"Dockerfile: USER must be {wanted} as the pods run")
            break
    return found


def generated_config_maps(folder: Path, files: dict) -> dict:
    """The ConfigMaps kustomize generates: {name: {key: file content}} (None for a bad file)."""
    kustomization = (files.get(KUSTOMIZATION) or [{}])[0]
    generated = {}
    for generator in kustomization.get("configMapGenerator") or []:
        data = {}
        for entry in generator.get("files") or []:
            key, _, source = entry.rpartition("=")
            path = (folder / source).resolve()
            data[key or path.name] = path.read_text(encoding="utf-8") if path.is_file() else None
        generated[generator.get("name")] = data
    return generated


def rasa_problems(folder, files, config_maps, services, deployments) -> list:
    """The Rasa pods read the scale-out endpoints file, get every variable it names, and use
    the atomic lock store."""
    found = []
    rasa = deployments.get("rasa")
    if rasa is None:
        return found
    generated = generated_config_maps(folder, files).get("rasa-endpoints") or {}
    endpoints = generated.get("endpoints.yml")
    if endpoints is None:
        return found + [
            f"{KUSTOMIZATION}: configMapGenerator rasa-endpoints must read endpoints.yml from "
            "../endpoints.scale-out.yml"
        ]
    lock_store = (yaml.safe_load(endpoints) or {}).get("lock_store") or {}
    if lock_store.get("type") != ATOMIC_LOCK_STORE:
        found.append(f"endpoints: lock_store must be {ATOMIC_LOCK_STORE} (Rasa's is not atomic)")
    pod = ((rasa.get("spec") or {}).get("template") or {}).get("spec") or {}
    mounted_from = {
        volume.get("name"): (volume.get("configMap") or {}).get("name")
        for volume in pod.get("volumes") or []
    }
    for container in containers(rasa):
        given = _env_names(container, config_maps)
        for variable in sorted(set(re.findall(r"\$\{(\w+)\}", endpoints))):
            if variable not in given:
                found.append(f"rasa container {container.get('name')}: {variable} not set")
        if "SOCKETIO_REDIS_URL" not in given:
            found.append("rasa: SOCKETIO_REDIS_URL not set (emits and message ids per replica)")
        args = list(container.get("args") or [])
        wanted = args[args.index("--endpoints") + 1] if "--endpoints" in args[:-1] else None
        mounts = {
            mount.get("mountPath", "").rstrip("/") + "/endpoints.yml"
            for mount in container.get("volumeMounts") or []
            if mounted_from.get(mount.get("name")) == "rasa-endpoints"
        }
        if wanted not in mounts:
            found.append(f"rasa: --endpoints {wanted} is not the mounted rasa-endpoints file")
    service = services.get("rasa") or {}
    if (service.get("spec") or {}).get("sessionAffinity") != "ClientIP":
        found.append("rasa Service: sessionAffinity must be ClientIP")
    return found


def routing_problems(files, services, deployments) -> list:
    """Services select pods that exist; socket.io reaches Rasa through a sticky Ingress."""
    found = []
    pod_labels = [
        (((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        for doc in deployments.values()
    ]
    ports = {
        name: {
            port.get("name")
            for container in containers(doc)
            for port in container.get("ports") or []
        }
        for name, doc in deployments.items()
    }
    for name, service in services.items():
        selector = (service.get("spec") or {}).get("selector") or {}
        if not any(all(labels.get(k) == v for k, v in selector.items()) for labels in pod_labels):
            found.append(f"Service {name}: selects no pod of a Deployment")
        targets = {port.get("targetPort") for port in (service.get("spec") or {}).get("ports", [])}
        if not targets <= ports.get(component(service), set()):
            found.append(f"Service {name}: targetPort {sorted(map(str, targets))} not a pod port")
    socketio_sticky = False
    for name, doc in resources(files):
        if doc.get("kind") != "Ingress":
            continue
        annotations = (doc.get("metadata") or {}).get("annotations") or {}
        for rule in (doc.get("spec") or {}).get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = (path.get("backend") or {}).get("service") or {}
                if backend.get("name") not in services:
                    found.append(f"{name}: Ingress backend {backend.get('name')} is no Service")
                    continue
                if path.get("path") == "/socket.io" and backend.get("name") == "rasa":
                    sticky = all(annotations.get(k) == v for k, v in STICKY_ANNOTATIONS.items())
                    long_lived = all(int(annotations.get(k, 0)) >= 600 for k in WEBSOCKET_TIMEOUTS)
                    socketio_sticky = sticky and long_lived
    if not socketio_sticky:
        found.append(
            "Ingress: /socket.io must go to the rasa Service with cookie affinity "
            "(persistent) and websocket timeouts of at least 600 s"
        )
    return found
