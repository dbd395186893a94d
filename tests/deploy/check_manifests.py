"""Offline checks of deploy/kubernetes: what the manifests promise holds.

    check_manifests.py SOURCE_DIR [KUBECTL]

Reads the manifests with PyYAML and checks the contracts deploy/README.md
states: the coordinator a one-replica StatefulSet whose --state-dir is on a
claimed volume, behind a Service; gRPC health probes on the port it listens
on; workers that dial that Service, with --threads from their CPU request
and a grace period longer than their drain; an HPA aimed at the workers.
With KUBECTL, also renders the kustomization and checks that its image,
replicas and CPU settings reach the objects. Exit 0 when all hold.
"""

import os
import re
import subprocess
import sys

import yaml


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def load(path):
    with open(path) as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def one(docs, kind):
    found = [doc for doc in docs if doc["kind"] == kind]
    if len(found) != 1:
        fail(f"expected one {kind}, found {len(found)}")
    return found[0]


def flag(args, name):
    for arg in args:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    fail(f"no --{name}= in {args}")


def duration_s(text):
    match = re.fullmatch(r"(\d+)s", text)
    if not match:
        fail(f"duration {text!r} is not whole seconds")
    return int(match.group(1))


def check_coordinator(docs):
    service, stateful = one(docs, "Service"), one(docs, "StatefulSet")
    spec = stateful["spec"]
    if spec["replicas"] != 1:
        fail("the coordinator must have one replica: it owns the journal")
    if service["spec"]["selector"] != spec["selector"]["matchLabels"]:
        fail("the coordinator Service does not select the StatefulSet's pods")
    container = spec["template"]["spec"]["containers"][0]
    listen_port = int(flag(container["args"], "listen").rsplit(":", 1)[1])
    state_dir = flag(container["args"], "state-dir")
    claims = {claim["metadata"]["name"] for claim in spec["volumeClaimTemplates"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    if mounts.get(state_dir) not in claims:
        fail(f"--state-dir {state_dir} is not on a PersistentVolumeClaim")
    for probe in ("readinessProbe", "livenessProbe"):
        grpc = container.get(probe, {}).get("grpc")
        if not grpc or grpc["port"] != listen_port:
            fail(f"coordinator {probe} is not gRPC health on port {listen_port}")
    if service["spec"]["ports"][0]["port"] != listen_port:
        fail("the Service's port is not the coordinator's")
    return service["metadata"]["name"], listen_port


def check_worker(docs, service, port):
    deployment = one(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = container["args"]
    if flag(args, "coordinator") != f"{service}:{port}":
        fail(f"workers dial {flag(args, 'coordinator')}, not {service}:{port}")
    threads = flag(args, "threads")
    env = {e["name"]: e.get("valueFrom", {}) for e in container.get("env", [])}
    source = env.get(threads.strip("$()"), {}).get("resourceFieldRef", {})
    if threads[:2] != "$(" or source.get("resource") != "requests.cpu":
        fail(f"--threads={threads} does not come from the CPU request")
    drain = duration_s(flag(args, "drain-timeout"))
    if pod["terminationGracePeriodSeconds"] <= drain:
        fail(f"grace period {pod['terminationGracePeriodSeconds']} s does not "
             f"cover the worker's {drain} s drain")
    return deployment["metadata"]["name"]


def check_hpa(docs, worker):
    target = one(docs, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    if (target["kind"], target["name"]) != ("Deployment", worker):
        fail(f"the HPA scales {target}, not the worker Deployment")


def check_kustomization(folder, kubectl):
    kustomization = load(os.path.join(folder, "kustomization.yaml"))[0]
    rendered = subprocess.run([kubectl, "kustomize", folder], capture_output=True,
                              text=True, timeout=60)
    if rendered.returncode != 0:
        fail(f"kubectl kustomize: {rendered.stderr.strip()}")
    docs = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    image = kustomization["images"][0]
    want = f"{image['newName']}:{image['newTag']}"
    for doc in docs:
        for container in (doc.get("spec", {}).get("template", {})
                          .get("spec", {}).get("containers", [])):
            if container["image"] != want:
                fail(f"{doc['metadata']['name']} runs {container['image']}, "
                     f"not the kustomization's {want}")
    deployment = one(docs, "Deployment")
    if deployment["spec"]["replicas"] != kustomization["replicas"][0]["count"]:
        fail("the kustomization's replicas do not reach the worker Deployment")
    print(f"ok: kubectl kustomize renders {len(docs)} objects with image {want}")


def main():
    folder = os.path.join(sys.argv[1], "deploy/kubernetes")
    service, port = check_coordinator(load(os.path.join(folder, "coordinator.yaml")))
    worker = check_worker(load(os.path.join(folder, "worker.yaml")), service, port)
    check_hpa(load(os.path.join(folder, "hpa.yaml")), worker)
    print("ok: coordinator StatefulSet, worker Deployment and HPA hold their contracts")
    if len(sys.argv) > 2:
        check_kustomization(folder, sys.argv[2])
    else:
        print("note: no kubectl; the kustomization was not rendered")


if __name__ == "__main__":
    main()
