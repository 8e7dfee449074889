"""What the RunPod side should look like, and the requests that get it there: pure, no I/O.

Resources are found by name (a template name is unique per account; an endpoint name is not, so
two endpoints with our name is a conflict, not a guess). An update sends only the fields that
differ, so a second run with the same settings plans no request at all. Fields the API does not
echo back (`flashboot` on an endpoint) cannot be compared: they are sent on create and with any
update, but never cause one by themselves. Create-only fields (`isServerless`, `computeType`) are
not patchable; a template of ours that is not a serverless one is a conflict. Teardown scales
our endpoint to zero workers, deletes it, then deletes our template (RunPod refuses to delete a
template an endpoint still uses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deploy.errors import DeployConflictError
from deploy.rest import Request
from deploy.settings import DeploySettings

TEMPLATE_CREATE_ONLY = frozenset({"isServerless", "category"})
ENDPOINT_CREATE_ONLY = frozenset({"computeType"})
ENDPOINT_NOT_ECHOED = frozenset({"flashboot"})
# Older RunPod tools turned FlashBoot on by this name suffix: an endpoint so named is still ours.
FLASHBOOT_SUFFIX = " -fb"
PENDING_TEMPLATE_ID = "<id of the template created above>"
README = "Transcript summarizer worker (vLLM). Managed by `make deploy-worker`; edits here are overwritten."


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
        "imageName": settings.image,
        "isServerless": True,
        "category": "NVIDIA",
        "containerDiskInGb": settings.container_disk_gb,
        "volumeInGb": 0,  # serverless workers get a network volume, if any, from the endpoint
        "env": settings.template_env(),
        "readme": README,
    }


def endpoint_body(settings: DeploySettings, template_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": settings.endpoint_name,
        "templateId": template_id,
        "computeType": "GPU",
        "gpuTypeIds": list(settings.gpu_type_ids),
        "gpuCount": settings.gpu_count,
        "workersMin": settings.workers_min,
        "workersMax": settings.workers_max,
        "idleTimeout": settings.idle_timeout_s,
        # The endpoint's default equals the dispatcher's per-job policy.executionTimeout.
        "executionTimeoutMs": settings.execution_timeout_s * 1000,
        "scalerType": settings.scaler_type,
        "scalerValue": settings.scaler_value,
        "flashboot": settings.flashboot,
    }
    if settings.network_volume_id:
        body["networkVolumeId"] = settings.network_volume_id
    if settings.data_center_ids:
        body["dataCenterIds"] = list(settings.data_center_ids)
    return body


def _env_map(value: Any) -> Any:
    """RunPod answers env as an object; older answers used a list of {key, value}."""
    if isinstance(value, list) and all(isinstance(i, dict) and "key" in i for i in value):
        return {str(i["key"]): str(i.get("value", "")) for i in value}
    return value


def changed_fields(
    desired: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    create_only: frozenset[str] = frozenset(),
    not_echoed: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, wanted in desired.items():
        if name in create_only or name in not_echoed:
            continue
        have = _env_map(current.get(name)) if name == "env" else current.get(name)
        if have != wanted:
            changes[name] = wanted
    return changes


def plan_template(settings: DeploySettings, templates: list[dict[str, Any]]) -> Step:
    name = settings.template_name
    mine = [t for t in templates if t.get("name") == name and not t.get("isRunpod")]
    desired = template_body(settings)
    if not mine:
        return Step("template", name, "create", request=Request("POST", "/templates", desired))
    if len(mine) > 1:
        raise DeployConflictError(f"{len(mine)} templates are named {name!r}: {_ids(mine)}")
    current = mine[0]
    if current.get("isServerless") is False:
        raise DeployConflictError(
            f"template {name!r} ({current.get('id')}) is a Pod template; a serverless one cannot "
            "reuse its name: delete it or choose --template-name"
        )
    changes = changed_fields(desired, current, create_only=TEMPLATE_CREATE_ONLY)
    return _update_or_keep("template", name, current, changes, f"/templates/{current['id']}")


def plan_endpoint(settings: DeploySettings, endpoints: list[dict[str, Any]], template_id: str) -> Step:
    name = settings.endpoint_name
    mine = [e for e in endpoints if e.get("name") in (name, name + FLASHBOOT_SUFFIX)]
    desired = endpoint_body(settings, template_id)
    if not mine:
        return Step("endpoint", name, "create", request=Request("POST", "/endpoints", desired))
    if len(mine) > 1:
        raise DeployConflictError(
            f"{len(mine)} endpoints are named {name!r}: {_ids(mine)}; "
            "delete the extra ones or choose --endpoint-name"
        )
    current = dict(mine[0])
    current["name"] = name  # " -fb" is RunPod's decoration, not a difference
    changes = changed_fields(
        desired, current, create_only=ENDPOINT_CREATE_ONLY, not_echoed=ENDPOINT_NOT_ECHOED
    )
    riders = {k: desired[k] for k in ENDPOINT_NOT_ECHOED if k in desired}
    return _update_or_keep("endpoint", name, current, changes, f"/endpoints/{current['id']}", riders)


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
        if endpoint.get("workersMin") != 0 or endpoint.get("workersMax") != 0:
            body = {"workersMin": 0, "workersMax": 0}
            steps.append(
                Step(
                    "endpoint",
                    name,
                    "scale to 0",
                    endpoint_id,
                    request=Request("PATCH", f"/endpoints/{endpoint_id}", body),
                )
            )
        steps.append(
            Step(
                "endpoint",
                name,
                "delete",
                endpoint_id,
                request=Request("DELETE", f"/endpoints/{endpoint_id}"),
            )
        )
    if not mine:
        steps.append(Step("endpoint", name, "absent"))
    ours = [t for t in templates if t.get("name") == settings.template_name and not t.get("isRunpod")]
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
    riders: Mapping[str, Any] | None = None,
) -> Step:
    """`riders`: fields sent along with an update that cannot be compared (never echoed back)."""
    current_id = str(current.get("id"))
    if not changes:
        return Step(resource, name, "unchanged", current_id=current_id)
    return Step(
        resource,
        name,
        "update",
        current_id=current_id,
        changed=tuple(sorted(changes)),
        request=Request("PATCH", path, {**changes, **(riders or {})}),
    )


def _ids(items: list[dict[str, Any]]) -> str:
    return ", ".join(str(i.get("id")) for i in items)
