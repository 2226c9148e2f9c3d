"""Model cards: the YAML metadata the Hub reads, parsed back with huggingface_hub's ModelCard / ModelCardData."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import ModelCard, ModelCardData

from headzoo import pretrain_head
from headzoo.cards import HUB_METRICS, card_dataset
from headzoo.errors import ConfigError
from headzoo.files import CARD_FILE
from headzoo.head import Head
from headzoo.tasks import get_task
from headzoo.tasks.spec import CLASSIFICATION, METRIC_NAMES, PAIR_COLUMNS, TaskSpec

from .conftest import tiny_bert

MSR_SSLA = "http://research.microsoft.com/en-us/downloads/607d14d9-20cd-47e3-85bc-a2f65cd28042/"
#: headzoo metrics that are no Hub metric: they stay out of the card's metadata.
NOT_HUB_METRICS = {"combined_score"}


def _labels(*names: str) -> dict[str, Any]:
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


def _card(tmp_path: Path, head: Head) -> ModelCard:
    """Save the head, then read its README back the way the Hub's client does (strict: bad metadata raises)."""
    head.save(tmp_path / "h", overwrite=True)
    card = ModelCard.load(tmp_path / "h" / CARD_FILE, ignore_metadata_errors=False)
    again = ModelCardData(**card.data.to_dict())  # the metadata survives a second round trip
    assert again.to_dict() == card.data.to_dict()
    return card


def _glue_head(task: str, labels: tuple[str, ...], metrics: dict[str, float], **training: Any) -> Head:
    num = len(labels) or 1
    return Head.from_model(
        tiny_bert(num_labels=num, **(_labels(*labels) if labels else {})), task=task, backbone="org/tiny",
        method="lora", metrics=metrics,
        training={"dataset": "nyu-mll/glue", "dataset_config": task, "dataset_name": task,
                  "eval_split": "validation", "learning_rate": 0.005, **training},
    )


def test_mrpc_card_links_base_model_dataset_license_and_real_metrics(tmp_path: Path) -> None:
    head = _glue_head("mrpc", ("not_equivalent", "equivalent"), {"accuracy": 0.75, "f1": 0.8, "loss": 0.61},
                      data_license=get_task("mrpc").license_metadata)
    card = _card(tmp_path, head)
    data = card.data
    assert data.library_name == "headzoo"
    assert data.pipeline_tag == "text-classification"
    assert data.base_model == "org/tiny"
    assert data.base_model_relation == "adapter"
    assert {"headzoo", "task:mrpc", "pet:lora", "backbone:org/tiny", "base_model:adapter:org/tiny"} <= set(data.tags)
    assert data.datasets == ["nyu-mll/glue"]
    assert (data.license, data.license_name, data.license_link) == ("other", "msr-ssla", MSR_SSLA)
    assert data.metrics == ["accuracy", "f1"]
    results = data.eval_results
    assert sorted((r.metric_type, r.metric_value) for r in results) == [("accuracy", 0.75), ("f1", 0.8)]
    for r in results:
        assert (r.task_type, r.dataset_type, r.dataset_config, r.dataset_split) == (
            "text-classification", "nyu-mll/glue", "mrpc", "validation")
        assert r.dataset_name == "GLUE MRPC"
    assert "loss" not in card.content.split("---")[1], "loss is no metric"
    assert "| loss | 0.61 |" in card.text, "the body keeps the loss"
    assert "msr-ssla" in card.text and "https://huggingface.co/datasets/nyu-mll/glue" in card.text


def test_pushed_card_is_what_the_hub_reads(hub, tmp_path: Path) -> None:
    from huggingface_hub import HfApi

    from headzoo.hub import push_head

    head = _glue_head("mrpc", ("not_equivalent", "equivalent"), {"accuracy": 0.75, "f1": 0.8, "loss": 0.61},
                      data_license=get_task("mrpc").license_metadata)
    push_head(head, "alice/mrpc-head")
    info = HfApi().model_info("alice/mrpc-head")
    card = info.card_data
    assert card["base_model"] == "org/tiny" and card["base_model_relation"] == "adapter"
    assert card["license"] == "other" and card["datasets"] == ["nyu-mll/glue"]
    assert {"base_model:adapter:org/tiny", "base_model:org/tiny", "dataset:nyu-mll/glue", "license:other"} <= set(
        info.tags)
    assert sorted(r.metric_type for r in card.eval_results) == ["accuracy", "f1"]


def test_stsb_card_uses_hub_metric_ids_and_the_task_licence(tmp_path: Path) -> None:
    # no data_license in the record (a head made before it was recorded): the task's licence is used
    head = _glue_head("stsb", (), {"pearson": 0.8, "spearmanr": 0.7, "combined_score": 0.75, "loss": 1.2})
    data = _card(tmp_path, head).data
    assert data.license == "cc-by-sa-4.0"
    assert data.license_name is None and data.license_link is None
    assert data.metrics == ["pearsonr", "spearmanr"]
    assert sorted(r.metric_type for r in data.eval_results) == ["pearsonr", "spearmanr"]


def test_superglue_cb_card_has_macro_f1_and_no_made_up_licence(tmp_path: Path) -> None:
    head = Head.from_model(
        tiny_bert(**_labels("entailment", "contradiction", "neutral")), task="cb", backbone="org/tiny",
        method="bitfit", metrics={"eval_accuracy": 0.5, "eval_macro_f1": 0.25, "eval_loss": 0.9},
        training={"dataset": "aps/super_glue", "dataset_config": "cb", "eval_split": "validation"},
    )
    data = _card(tmp_path, head).data
    assert data.datasets == ["aps/super_glue"]
    assert data.license is None, "CB's licence is not known, so the card names none"
    assert data.metrics == ["accuracy", "f1"]
    macro = next(r for r in data.eval_results if r.metric_type == "f1")
    assert (macro.metric_value, macro.metric_args) == (0.25, {"average": "macro"})
    assert (macro.dataset_type, macro.dataset_config, macro.dataset_split) == ("aps/super_glue", "cb", "validation")
    assert macro.dataset_name == "SuperGLUE CB"


@pytest.mark.parametrize("training", [{"dataset": "custom:reviews", "dataset_name": "reviews",
                                       "eval_split": "validation"}, {}])
def test_custom_file_data_gets_no_hub_dataset(tmp_path: Path, training: dict[str, Any]) -> None:
    head = Head.from_model(tiny_bert(**_labels("neg", "pos", "mixed")), task="reviews", backbone="org/tiny",
                           method="lora", metrics={"accuracy": 0.9, "loss": 0.2}, training=training)
    data = _card(tmp_path, head).data
    assert data.datasets is None and data.license is None
    assert data.metrics == ["accuracy"]
    assert data.base_model_relation == "adapter"
    (result,) = data.eval_results  # kept, so search shows the metric; its type can be no Hub id
    assert (result.dataset_type, result.dataset_config, result.dataset_split) == ("custom:reviews", None, None)
    assert result.dataset_name == "reviews (local data, not on the Hub)"


def test_custom_hub_data_keeps_its_id_but_claims_no_split(tmp_path: Path) -> None:
    head = Head.from_model(tiny_bert(**_labels("neg", "pos", "mixed")), task="reviews", backbone="org/tiny",
                           metrics={"accuracy": 0.9},
                           training={"dataset": "someone/reviews", "dataset_config": None, "eval_split": "validation"})
    data = _card(tmp_path, head).data
    assert data.datasets == ["someone/reviews"]
    (result,) = data.eval_results
    assert (result.dataset_type, result.dataset_config, result.dataset_split) == ("someone/reviews", None, None)


def test_local_backbone_is_not_linked(tmp_path: Path) -> None:
    head = Head.from_model(tiny_bert(), task="toy", backbone=str(tmp_path / "my-bert"))
    data = _card(tmp_path, head).data
    assert data.base_model is None
    assert getattr(data, "base_model_relation", None) is None
    assert not any(t.startswith("base_model:") for t in data.tags)


def test_every_metric_is_mapped_to_a_hub_metric_or_kept_out_on_purpose() -> None:
    assert set(METRIC_NAMES) - NOT_HUB_METRICS <= set(HUB_METRICS)
    assert not NOT_HUB_METRICS & set(HUB_METRICS)


def test_task_licences_are_hub_fields_and_validated() -> None:
    assert get_task("stsb").license_metadata == {"license": "cc-by-sa-4.0"}
    assert get_task("mrpc").license_metadata == {"license": "other", "license_name": "msr-ssla",
                                                 "license_link": MSR_SSLA}
    assert get_task("rte").license_metadata == {}
    base = {"name": "x", "benchmark": "custom", "text_columns": PAIR_COLUMNS, "labels": ("a", "b"),
            "problem_type": CLASSIFICATION, "num_labels": 2, "metrics": ("accuracy",), "main_metric": "accuracy"}
    with pytest.raises(ConfigError, match="license_name"):
        TaskSpec(**base, license="other")
    with pytest.raises(ConfigError, match="license"):
        TaskSpec(**base, license="mit", license_link="https://example.org")
    assert TaskSpec(**base, license="mit").license_metadata == {"license": "mit"}


@pytest.mark.usefixtures("one_thread")
def test_a_trained_head_records_its_data_licence(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    head = pretrain_head("mrpc", str(tiny_backbone), "bitfit", data_dir=data_dir, limit=16, save=False,
                         settings={"max_steps": 1, "batch_size": 8, "max_length": 32})
    assert head.config.training["data_license"] == get_task("mrpc").license_metadata
    dataset = card_dataset(head.config)
    assert dataset is not None and (dataset.id, dataset.config, dataset.split) == ("nyu-mll/glue", "mrpc", "validation")
    data = _card(tmp_path, head).data
    assert data.license == "other" and data.base_model is None  # a local backbone folder has no Hub id
    assert "loss" in head.config.metrics and data.metrics == ["accuracy", "f1"]
