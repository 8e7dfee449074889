"""`make deploy-worker`: create or update, by name, the RunPod serverless template and endpoint.

    python -m deploy.worker --image REGISTRY/NAME:TAG [--preset NAME] [--workers-max N] … [--dry-run]
    python -m deploy.worker --delete [--dry-run]       # teardown: endpoint (scaled to 0), template

Speaks RunPod's REST API v2 (`https://api.runpod.io/v2`; v1 was retired on November 15, 2026).
Reads what exists (GET /v2/templates, GET /v2/serverless), then sends only what differs: a create
the first time, a PATCH of the changed fields after a change, nothing at all when everything matches.
`--dry-run` prints the requests it would send (the API key masked) and sends none; with
RUNPOD_API_KEY set it still reads the current state, so it shows exactly the next run's changes.
Every flag has an environment variable (`deploy/settings.py`); flags win. At the end it prints the
endpoint's `RUNPOD_ENDPOINT_URL`, the one value the AWS stack needs from this side.

Exit status: 0 done (or planned), 1 RunPod refused or a conflict, 2 bad settings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from deploy import settings as names
from deploy.errors import DeployConfigError, DeployError
from deploy.plan import PENDING_TEMPLATE_ID, Step, plan_endpoint, plan_teardown, plan_template
from deploy.rest import RunPodRest
from deploy.settings import DeploySettings
from dispatcher.settings import JOB_EXECUTION_TIMEOUT_S

# flag → the environment variable it overrides
FLAGS: dict[str, tuple[str, str]] = {
    "--image": (names.IMAGE, "pushed worker image with its tag (make push prints it)"),
    "--preset": (names.PRESET, f"model preset (default {names.DEFAULT_PRESET})"),
    "--template-name": (names.TEMPLATE_NAME, "RunPod template name"),
    "--endpoint-name": (names.ENDPOINT_NAME, "RunPod endpoint name"),
    "--gpu-pools": (names.GPU_POOLS, "comma-separated RunPod serverless GPU pool ids, e.g. ADA_80_PRO"),
    "--gpu-count": (names.GPU_COUNT, "GPUs per worker (default: the preset's tensor-parallel size)"),
    "--workers-min": (
        names.WORKERS_MIN,
        "always-on workers (default 0: nothing runs, nothing is billed when idle)",
    ),
    "--workers-max": (names.WORKERS_MAX, "most workers at once (default 2)"),
    "--idle-timeout": (
        names.IDLE_TIMEOUT_S,
        "seconds a worker waits for the next job before stopping (default 30; not with REQUEST_COUNT)",
    ),
    "--execution-timeout": (
        JOB_EXECUTION_TIMEOUT_S,
        "endpoint execution timeout, s (default: the dispatcher's; v2's own default is 300)",
    ),
    "--scaler-type": (names.SCALER_TYPE, "QUEUE_DELAY (default) or REQUEST_COUNT"),
    "--scaler-value": (
        names.SCALER_VALUE,
        "seconds in queue (QUEUE_DELAY, default 4) or requests per worker (REQUEST_COUNT)",
    ),
    "--flashboot": (
        names.FLASHBOOT,
        "FLASHBOOT (default, as in RunPod's console), PRIORITY_FLASHBOOT or OFF",
    ),
    "--min-cuda-version": (
        names.MIN_CUDA_VERSION,
        f"lowest CUDA version a host must offer (default {names.IMAGE_CUDA_VERSION}: the image's)",
    ),
    "--network-volume-id": (names.NETWORK_VOLUME_ID, "RunPod network volume for the model cache"),
    "--data-centers": (names.DATA_CENTERS, "comma-separated data center ids (a network volume pins one)"),
    "--container-disk-gb": (names.CONTAINER_DISK_GB, "container disk per worker (default 50)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.worker",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    for flag, (env_name, help_text) in FLAGS.items():
        parser.add_argument(
            flag, dest=env_name, metavar=flag.lstrip("-").split("-")[-1].upper(), help=help_text
        )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra worker variable for the template (repeatable), e.g. WORKER_MAX_MODEL_LEN=65536",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the requests, send none")
    parser.add_argument(
        "--delete", action="store_true", help="tear down: delete the endpoint, then the template"
    )
    return parser


def _settings(args: argparse.Namespace, env: Mapping[str, str]) -> DeploySettings:
    merged = dict(env)
    for _flag, (env_name, _help) in FLAGS.items():
        value = getattr(args, env_name)
        if value is not None:
            merged[env_name] = value
    if args.env:
        extra = dict(names.parse_worker_env(merged.get(names.WORKER_ENV, "")))
        for item in args.env:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise DeployConfigError(f"--env wants KEY=VALUE, got {item!r}")
            extra[key.strip()] = value
        merged[names.WORKER_ENV] = json.dumps(extra)
    return DeploySettings.from_env(merged, teardown=args.delete)


def _report(step: Step, out: TextIO, base_url: str, dry_run: bool) -> None:
    where = f" ({step.current_id})" if step.current_id else ""
    detail = f": {', '.join(step.changed)}" if step.changed else ""
    print(f"{step.resource} {step.name!r}{where}: {step.action}{detail}", file=out)
    if dry_run and step.request is not None:
        print("  would send:", file=out)
        for line in step.request.describe(base_url).splitlines():
            print("    " + line, file=out)


def run(
    settings: DeploySettings, *, dry_run: bool, out: TextIO, rest: RunPodRest | None = None
) -> str | None:
    """Plan and (unless dry_run) apply; returns the endpoint id (None in a first dry run)."""
    if settings.api_key is None:
        if not dry_run:
            raise DeployConfigError(f"{names.API_KEY} is required (or use --dry-run to see the requests)")
        print(f"{names.API_KEY} is not set: showing the requests of a first deployment.", file=out)
    elif rest is None:
        rest = RunPodRest(settings.rest_url, settings.api_key)

    template = plan_template(settings, rest.list_templates() if rest else [])
    _report(template, out, settings.rest_url, dry_run)
    template_id = template.current_id
    if template.request is not None and not dry_run:
        assert rest is not None
        template_id = rest.send(template.request)["id"]
        if template.action == "create":
            print(f"  template id {template_id}", file=out)

    endpoint = plan_endpoint(
        settings, rest.list_endpoints() if rest else [], template_id or PENDING_TEMPLATE_ID
    )
    _report(endpoint, out, settings.rest_url, dry_run)
    endpoint_id = endpoint.current_id
    if endpoint.request is not None and not dry_run:
        assert rest is not None
        endpoint_id = rest.send(endpoint.request)["id"]
        if endpoint.action == "create":
            print(f"  endpoint id {endpoint_id}", file=out)

    if endpoint_id:
        print(f"\nRUNPOD_ENDPOINT_URL={settings.serverless_url}/{endpoint_id}", file=out)
        print("  (the RunPodEndpointUrl parameter of `make deploy-dispatcher`)", file=out)
    return endpoint_id


def teardown(settings: DeploySettings, *, dry_run: bool, out: TextIO, rest: RunPodRest | None = None) -> None:
    """Delete our endpoint (scaled to zero workers first) and our template, by name."""
    if settings.api_key is None:
        raise DeployConfigError(f"{names.API_KEY} is required to find what to delete")
    rest = rest or RunPodRest(settings.rest_url, settings.api_key)
    for step in plan_teardown(settings, rest.list_templates(), rest.list_endpoints()):
        _report(step, out, settings.rest_url, dry_run)
        if step.request is not None and not dry_run:
            rest.send(step.request)


def main(
    argv: list[str] | None = None, env: Mapping[str, str] | None = None, out: TextIO = sys.stdout
) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args, os.environ if env is None else env)
        if args.delete:
            teardown(settings, dry_run=args.dry_run, out=out)
        else:
            run(settings, dry_run=args.dry_run, out=out)
    except DeployConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
