"""Cost per summary: every metadata file's `cost` (worker/cost.py), and `python -m client costs`
summing them from real metadata files written by the real JobRunner into moto."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from client.cli import main
from dispatcher.job import build_job_input
from dispatcher.presign import Presigner
from dispatcher.settings import Settings
from dispatcher.upload import Upload
from tests.support.dispatch import DispatcherEnv
from tests.support.jobs import outputs, run_job, upload
from tests.support.paths import ROOT
from worker.cost import PRICE_SOURCE, pricing
from worker.settings import WorkerSettings

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_bytes()


@pytest.mark.parametrize(
    ("name", "price"),
    [
        ("NVIDIA H200", 0.00155),
        ("NVIDIA H100 80GB HBM3", 0.00116),
        ("NVIDIA L40S", 0.00053),
        ("NVIDIA RTX A6000", 0.00034),
        ("NVIDIA A100-SXM4-80GB", 0.00076),
        ("NVIDIA B200", 0.00240),
    ],
)
def test_a_gpu_is_priced_at_runpods_published_price(name: str, price: float) -> None:
    # The names are nvidia-smi's `--query-gpu=name` answers for these cards, which RunPod also uses
    # as its GPU type ids (e.g. "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB" in public
    # nvidia-smi tables and RunPod gpuTypeId lists).
    found = pricing(name)
    assert found.price_per_s == price and found.source == PRICE_SOURCE
    assert found.cost(100.0)["usd"] == pytest.approx(100 * price)


def test_a_setting_overrides_the_price_and_an_unknown_gpu_says_so() -> None:
    assert pricing("NVIDIA H200", 0.001).cost(10.0) | {} == {
        "seconds": 10.0,
        "gpu": "NVIDIA H200",
        "price_per_s": 0.001,
        "price_source": "WORKER_PRICE_PER_S",
        "usd": 0.01,
    }
    odd = pricing("Tesla T4")
    assert odd.price_per_s == 0.0 and "WORKER_PRICE_PER_S" in odd.source
    assert pricing("cpu").source.startswith("no GPU")


def test_a_worker_with_several_gpus_is_priced_for_each_one() -> None:
    # RunPod bills a worker per GPU it holds ("GPUs per worker"): a 2-GPU tensor-parallel preset
    # costs twice the price of one. nvidia-smi lists each GPU the worker sees on a line of its own.
    two = pricing(names=["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"])
    assert two.price_per_s == pytest.approx(2 * 0.00116) and two.gpu == "2 x NVIDIA H100 80GB HBM3"
    assert two.cost(10.0)["usd"] == pytest.approx(10 * 2 * 0.00116)
    assert pricing(names=["NVIDIA H200"]).gpu == "NVIDIA H200"
    # A name given in the settings is priced for as many GPUs as the worker sees.
    assert pricing("NVIDIA H200", names=["NVIDIA H200"] * 4).price_per_s == pytest.approx(4 * 0.00155)
    assert pricing("NVIDIA H200", names=[]).price_per_s == 0.00155
    # A negotiated rate (WORKER_PRICE_PER_S) is the worker's, whatever it holds.
    assert pricing(price_per_s=0.002, names=["NVIDIA H200"] * 2).price_per_s == 0.002


@pytest.mark.parametrize("name", ["NVIDIA GH200 480GB", "NVIDIA A1000", "NVIDIA L40"])
def test_a_gpu_is_priced_only_by_its_own_model_not_one_whose_name_it_contains(name: str) -> None:
    # GH200 holds "H200", A1000 "A100", and an L40 is not an L40S: none of them is in the table.
    found = pricing(name, names=[])
    assert found.price_per_s == 0.0 and "not in the price table" in found.source


def _job(s3: Any, bucket: str, key: str, presigner: Presigner, settings: Settings) -> dict[str, Any]:
    return build_job_input(Upload.of(upload(s3, bucket, key, SAMPLE), settings), presigner, settings)


def test_ok_and_error_metadata_carry_a_cost_and_costs_sums_them(
    s3: Any, bucket: str, presigner: Presigner, dispatcher_env: DispatcherEnv
) -> None:
    env = dispatcher_env()
    settings = Settings.from_env(env)
    worker = WorkerSettings(allow_loopback_urls=True, gpu="NVIDIA H200")
    for key in ("team/a.txt", "team/b.txt"):
        assert run_job(_job(s3, bucket, key, presigner, settings), settings=worker)["status"] == "ok"
    broken = _job(s3, bucket, "team/c.txt", presigner, settings) | {"options": {"max_tokens": 5}}
    assert "error" in run_job(broken, settings=worker)
    metas = [
        outputs(s3, bucket, f"team/{n}.txt", settings)[1]
        if n != "c"
        else json.loads(s3.get_object(Bucket=bucket, Key="summaries/team/c_summary.json")["Body"].read())
        for n in "abc"
    ]
    for meta in metas:
        cost = meta["cost"]
        assert cost["gpu"] == "NVIDIA H200" and cost["price_per_s"] == 0.00155
        assert cost["seconds"] == meta["timings"]["total_s"]
        assert cost["usd"] == pytest.approx(cost["seconds"] * 0.00155, abs=1e-6)
    assert metas[2]["status"] == "error"

    out, err = io.StringIO(), io.StringIO()
    code = main(["--bucket", bucket, "costs", "team/", "--json"], env, out, err)
    assert code == 0, err.getvalue()
    table = json.loads(out.getvalue())
    assert table["profile"]["meeting"]["jobs"] == 3  # no profile named: the default
    (model,) = {m["model"] for m in metas}
    assert table["model"][model]["usd"] == pytest.approx(sum(m["cost"]["usd"] for m in metas))
    (day,) = table["day"]
    assert day == metas[0]["finished_at"][:10]
