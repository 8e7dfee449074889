"""What the RunPod side should look like, and the requests that get it there: pure, no I/O.

Bodies follow RunPod's REST API v2 (runpod/docs `api-reference-v2/openapi.json`: schemas
`CreateTemplateRequest`, `CreateEndpointRequest`, `UpdateEndpointRequest`, `Endpoint`).

Resources are found by name (a template name is unique per account; an endpoint name is not, so
two endpoints with our name is a conflict, not a guess). An update sends only the fields that
differ, so a second run with the same settings plans no request at all; a nested object (`gpu`,
`workers`, `scaling`) is compared on the keys we set and, when it differs, sent whole. A v2
endpoint copies its template's container settings when it is created and keeps no link ("Later
template edits do not affect the endpoint"): so the endpoint's own `image`, `env` and `disk` are
compared and patched too, and a new image is one PATCH to the template and one to the endpoint.
Create-only fields (`templateId`, `type`) are not compared. A template of ours that is not a
serverless one is a conflict. Teardown scales our endpoint to zero workers, deletes it, then
deletes our template (RunPod refuses to delete a template an endpoint still uses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deploy.errors import DeployConflictError
from deploy.rest import Request
from deploy.settings import DeploySettings

ENDPOINT_CREATE_ONLY = frozenset({"templateId", "type"})
# Older RunPod tools turned FlashBoot on by this name suffix: an endpoint so named is still ours.
FLASHBOOT_SUFFIX = " -fb"
PENDING_TEMPLATE_ID = "<id of the template created above>"


@dataclass(frozen=True)
class Step:
    resource: str  # "template" or "endpoint"
    name: str
    action: str  # "create", "update", "unchanged", "scale to 0", "delete" or "absent"
    current_id: str | None = None
    changed: tuple[str, ...] = ()
    request: Request | None = None


def template_body(settings: DeploySettings) -> dict[str, Any]:
    return {
        "name": settings.template_name,
        "image": settings.image,
        "serverless": True,
        "category": "NVIDIA",
        "public": False,
        "disk": settings.container_disk_gb,
        "env": settings.template_env(),
        # Both default to true on create (console parity) and inject PUBLIC_KEY / JUPYTER_PASSWORD:
        # a serverless worker has no use for either.
        "startSsh": False,
        "startJupyter": False,
    }


def endpoint_body(settings: DeploySettings, template_id: str) -> dict[str, Any]:
    template = template_body(settings)
    workers: dict[str, Any] = {"min": settings.workers_min, "max": settings.workers_max}
    if settings.idle_timeout_s is not None:  # v2 refuses idleTimeout with REQUEST_COUNT scaling
        workers["idleTimeout"] = settings.idle_timeout_s
    value = "queueDelay" if settings.scaler_type == "QUEUE_DELAY" else "requestCount"
    body: dict[str, Any] = {
        "name": settings.endpoint_name,
        "type": "QUEUE",  # jobs go through /run and the queue (the dispatcher's contract)
        "templateId": template_id,
        # The template's container settings, stated: the endpoint keeps its own copy (see above).
        "image": template["image"],
        "disk": template["disk"],
        "env": template["env"],
        # Hosts whose driver runs the image's CUDA (v2 CreateEndpointGpuConfig.minCudaVersion).
        "gpu": {
            "pools": list(settings.gpu_pools),
            "count": settings.gpu_count,
            "minCudaVersion": settings.min_cuda_version,
        },
        "workers": workers,
        "scaling": {"type": settings.scaler_type, value: settings.scaler_value},
        # v2 defaults to 300000 ms, which would kill a long transcript's job: the endpoint allows
        # what the dispatcher's per-job policy.executionTimeout allows.
        "timeout": settings.execution_timeout_s * 1000,
        "flashboot": settings.flashboot,
    }
    if settings.network_volume_id:
        body["networkVolumes"] = [settings.network_volume_id]
    if settings.data_center_ids:
        body["dataCenterIds"] = list(settings.data_center_ids)
    return body


def changed_fields(
    desired: Mapping[str, Any], current: Mapping[str, Any], *, create_only: frozenset[str] = frozenset()
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, wanted in desired.items():
        if name in create_only:
            continue
        have = current.get(name)
        if name != "env" and isinstance(wanted, dict) and isinstance(have, dict):
            have = {key: have.get(key) for key in wanted}  # the echo carries defaults we never set
        if have != wanted:
            changes[name] = wanted
    return changes


def plan_template(settings: DeploySettings, templates: list[dict[str, Any]]) -> Step:
    name = settings.template_name
    mine = [t for t in templates if t.get("name") == name]
    desired = template_body(settings)
    if not mine:
        return Step("template", name, "create", request=Request("POST", "/templates", desired))
    if len(mine) > 1:
        raise DeployConflictError(f"{len(mine)} templates are named {name!r}: {_ids(mine)}")
    current = mine[0]
    if current.get("serverless") is False:
        raise DeployConflictError(
            f"template {name!r} ({current.get('id')}) is a Pod template; a serverless one cannot "
            "reuse its name: delete it or choose --template-name"
        )
    changes = changed_fields(desired, current)
    return _update_or_keep("template", name, current, changes, f"/templates/{current['id']}")


def plan_endpoint(settings: DeploySettings, endpoints: list[dict[str, Any]], template_id: str) -> Step:
    name = settings.endpoint_name
    mine = [e for e in endpoints if e.get("name") in (name, name + FLASHBOOT_SUFFIX)]
    desired = endpoint_body(settings, template_id)
    if not mine:
        return Step("endpoint", name, "create", request=Request("POST", "/serverless", desired))
    if len(mine) > 1:
        raise DeployConflictError(
            f"{len(mine)} endpoints are named {name!r}: {_ids(mine)}; "
            "delete the extra ones or choose --endpoint-name"
        )
    current = dict(mine[0])
    if current.get("type", "QUEUE") != "QUEUE":
        raise DeployConflictError(
            f"endpoint {name!r} ({current.get('id')}) is a {current.get('type')} endpoint; the worker "
            "needs a QUEUE one and the type cannot be changed: delete it or choose --endpoint-name"
        )
    current["name"] = name  # " -fb" is an older tool's decoration, not a difference
    changes = changed_fields(desired, current, create_only=ENDPOINT_CREATE_ONLY)
    return _update_or_keep("endpoint", name, current, changes, f"/serverless/{current['id']}")


def plan_teardown(
    settings: DeploySettings, templates: list[dict[str, Any]], endpoints: list[dict[str, Any]]
) -> list[Step]:
    steps: list[Step] = []
    name = settings.endpoint_name
    mine = [e for e in endpoints if e.get("name") in (name, name + FLASHBOOT_SUFFIX)]
    if len(mine) > 1:
        raise DeployConflictError(f"{len(mine)} endpoints are named {name!r}: {_ids(mine)}; delete by hand")
    for endpoint in mine:
        endpoint_id = str(endpoint["id"])
        workers = endpoint.get("workers")
        workers = workers if isinstance(workers, dict) else {}
        if workers.get("min") != 0 or workers.get("max") != 0:
            body = {"workers": {"min": 0, "max": 0}}
            steps.append(
                Step(
                    "endpoint",
                    name,
                    "scale to 0",
                    endpoint_id,
                    request=Request("PATCH", f"/serverless/{endpoint_id}", body),
                )
            )
        steps.append(
            Step(
                "endpoint",
                name,
                "delete",
                endpoint_id,
                request=Request("DELETE", f"/serverless/{endpoint_id}"),
            )
        )
    if not mine:
        steps.append(Step("endpoint", name, "absent"))
    ours = [t for t in templates if t.get("name") == settings.template_name]
    for template in ours:
        template_id = str(template["id"])
        steps.append(
            Step(
                "template",
                settings.template_name,
                "delete",
                template_id,
                request=Request("DELETE", f"/templates/{template_id}"),
            )
        )
    if not ours:
        steps.append(Step("template", settings.template_name, "absent"))
    return steps


def _update_or_keep(
    resource: str,
    name: str,
    current: Mapping[str, Any],
    changes: dict[str, Any],
    path: str,
) -> Step:
    current_id = str(current.get("id"))
    if not changes:
        return Step(resource, name, "unchanged", current_id=current_id)
    return Step(
        resource,
        name,
        "update",
        current_id=current_id,
        changed=tuple(sorted(changes)),
        request=Request("PATCH", path, changes),
    )


def _ids(items: list[dict[str, Any]]) -> str:
    return ", ".join(str(i.get("id")) for i in items)
