"""Node discovery, graph building, chunk planning, state and /prompt error messages —
checked against the recorded 0.3.64 data (object_info, workflow, error bodies)."""

from __future__ import annotations

import json

import pytest

from lora_studio.core.backends.comfyui.follow import outcome_from_history, parse_losses
from lora_studio.core.backends.comfyui.graph import (
    ChunkSpec,
    GraphError,
    build_training_graph,
    lora_file_name,
)
from lora_studio.core.backends.comfyui.nodes import (
    NodeSetKind,
    checkpoint_names,
    describe_missing_nodes,
    discover_training_nodes,
    parse_object_info,
)
from lora_studio.core.backends.comfyui.params import plan_chunks, train_params
from lora_studio.core.backends.comfyui.prompt_errors import rejection_from_body
from lora_studio.core.backends.comfyui.state import ChunkRecord, ComfyJobState
from tests.core.backends.comfy_helpers import config
from tests.fakes.fake_comfyui_engine import (
    FIXTURES,
    build_object_info,
    fixture_lines,
    load_fixture_json,
)


def specs(node_set: str = "0.3.64"):  # type: ignore[no-untyped-def]
    return parse_object_info(build_object_info(node_set))


def test_recorded_object_info_is_the_0364_node_set() -> None:
    parsed = parse_object_info(load_fixture_json("object_info_subset.json"))
    nodes = discover_training_nodes(parsed)
    assert nodes is not None and nodes.kind is NodeSetKind.V0364
    assert nodes.loss_graph and nodes.preview
    assert checkpoint_names(parsed) == ("random_sd15.safetensors", "random_sd15_tiny.safetensors")
    optimizer = parsed["TrainLoraNode"].inputs["optimizer"]
    assert optimizer.options == ("AdamW", "Adam", "SGD", "RMSprop")
    assert parsed["SaveLoRANode"].inputs["steps"].force_input


def test_newer_node_set_with_v3_combos_is_found() -> None:
    nodes = discover_training_nodes(specs("newer"))
    assert nodes is not None and nodes.kind is NodeSetKind.NEWER
    assert nodes.spec("TrainLoraNode").inputs["optimizer"].options == (
        "AdamW",
        "Adam",
        "SGD",
        "RMSprop",
    )


def test_a_server_without_training_nodes_is_explained() -> None:
    parsed = specs("none")
    assert discover_training_nodes(parsed) is None
    message = describe_missing_nodes(parsed, "0.3.40")
    assert (
        "0.3.40" in message and "no LoRA training nodes" in message and "Update ComfyUI" in message
    )


def chunk(**overrides):  # type: ignore[no-untyped-def]
    values = dict(
        folder="lora_test",
        prefix="loras/lorastudio_final",
        steps=4,
        seed=7,
        existing_lora=None,
        loss_graph_prefix="loss_graph",
    )
    values.update(overrides)
    return ChunkSpec(**values)


def test_0364_graph_matches_the_recorded_workflow() -> None:
    nodes = discover_training_nodes(specs())
    params = train_params(config(rank=8, learning_rate=0.0005, max_steps=4), 4)
    graph, ids = build_training_graph(nodes, params, chunk())
    recorded = json.loads((FIXTURES / "train_workflow_sd15.json").read_text())
    recorded["1"]["inputs"]["ckpt_name"] = "random_sd15.safetensors"
    assert graph == recorded
    assert (ids.train, ids.save, ids.loss_graph, ids.preview) == ("4", "5", "6", "7")


def test_newer_graph_encodes_captions_with_cliptextencode() -> None:
    nodes = discover_training_nodes(specs("newer"))
    graph, ids = build_training_graph(
        nodes, train_params(config(), 4), chunk(existing_lora="x_4_steps_00001_.safetensors")
    )
    assert graph["2"] == {
        "class_type": "LoadImageTextDataSetFromFolder",
        "inputs": {"folder": "lora_test"},
    }
    assert graph["3"] == {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": ["2", 1], "clip": ["1", 1]},
    }
    assert graph["5"]["inputs"]["latents"] == ["4", 0] and graph["5"]["inputs"]["positive"] == [
        "3",
        0,
    ]
    assert graph["5"]["inputs"]["existing_lora"] == "x_4_steps_00001_.safetensors"
    assert graph["6"]["class_type"] == "SaveLoRA" and ids.save == "6"


def test_one_step_chunks_leave_out_the_loss_graph() -> None:
    nodes = discover_training_nodes(specs())
    graph, ids = build_training_graph(nodes, train_params(config(max_steps=1), 4), chunk(steps=1))
    assert ids.loss_graph is None
    assert "LossGraphNode" not in {n["class_type"] for n in graph.values()}


def test_unknown_required_inputs_get_the_servers_default_or_a_clear_error() -> None:
    info = build_object_info("0.3.64")
    info["TrainLoraNode"]["input"]["required"]["bypass_mode"] = ["BOOLEAN", {"default": False}]
    nodes = discover_training_nodes(parse_object_info(info))
    graph, _ = build_training_graph(nodes, train_params(config(), 4), chunk())
    assert graph["4"]["inputs"]["bypass_mode"] is False
    info["TrainLoraNode"]["input"]["required"]["teacher"] = ["MODEL", {}]
    nodes = discover_training_nodes(parse_object_info(info))
    with pytest.raises(GraphError, match="teacher"):
        build_training_graph(nodes, train_params(config(), 4), chunk())


def test_file_name_rule() -> None:
    assert (
        lora_file_name("loras/lorastudio_ab12", 600)
        == "lorastudio_ab12_600_steps_00001_.safetensors"
    )
    assert lora_file_name("loras/x", None, 3) == "x_00003_.safetensors"


def test_chunk_plans() -> None:
    params = train_params(config(max_steps=1000), 20)
    assert plan_chunks(params, False, 250) == [1000]
    assert plan_chunks(params, True, 250) == [250, 250, 250, 250]
    assert plan_chunks(train_params(config(max_steps=501), 20), True, 250) == [250, 251]
    by_epoch = train_params(config(max_steps=None, epochs=4, save_every_n_epochs=1), 10)
    assert by_epoch.steps_per_epoch == 10 and plan_chunks(by_epoch, True, 250) == [10, 10, 10, 10]


def test_state_round_trips_and_names_chunk_files() -> None:
    state = ComfyJobState(
        client_id="c",
        job_key="ab",
        folder="lorastudio/ab",
        node_set="0.3.64",
        plan=[10, 10, 5],
        grad_accumulation=1,
        steps_per_epoch=5,
        seed=3,
    )
    first = state.next_chunk("p1")
    assert first == ChunkRecord(1, "p1", 10, 10, "lorastudio_ab_c1_10_steps_00001_.safetensors")
    state.next_chunk("p2")
    again = ComfyJobState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state and again.current.file == "lorastudio_ab_c2_20_steps_00001_.safetensors"
    assert again.epoch_at(20) == 4 and again.epoch_at(21) is None


def recorded_error_bodies() -> dict[str, tuple[int, str]]:
    text = (FIXTURES / "prompt_error_bodies.txt").read_text()
    bodies = {}
    for block in text.split("### ")[1:]:
        head, _, body = block.partition("\n")
        name, _, status = head.partition(" -> ")
        bodies[name.strip()] = (int(status), body.strip())
    return bodies


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown_class_type", "NoSuchNode does not exist"),
        ("no_output_node", "Prompt has no outputs"),
        (
            "unknown_ckpt_name",
            "node 1 (CheckpointLoaderSimple): the checkpoint 'does_not_exist.safetensors' is not on this ComfyUI server",
        ),
        (
            "unknown_dataset_folder",
            "node 2 (LoadImageTextSetFromFolderNode): the uploaded dataset folder 'no_such_folder' is not visible",
        ),
        ("steps_below_min", "node 4 (TrainLoraNode): steps: Value 0 smaller than min of 1"),
        ("missing_required_input", "node 4 (TrainLoraNode): TrainLoraNode needs the input “rank”"),
        ("bad_enum_optimizer", "optimizer = 'Lion' is not one of the values"),
        ("missing_prompt_key", "No prompt provided"),
    ],
)
def test_recorded_prompt_errors_become_per_node_messages(case: str, expected: str) -> None:
    status, body = recorded_error_bodies()[case]
    error = rejection_from_body(json.loads(body), "ComfyUI at 127.0.0.1:8188", status)
    assert expected in error.user_message
    if json.loads(body)["node_errors"]:
        assert error.problems and all(p.node_id in body for p in error.problems)


def recorded_history(name: str) -> dict:  # type: ignore[type-arg]
    body = next(line["body"] for line in reversed(fixture_lines(name)) if line["dir"] == "http")
    return next(iter(body.values()))


def test_recorded_histories_give_the_right_outcomes() -> None:
    record = ChunkRecord(1, "p", 4, 4, "f", train_node="4", save_node="5", preview_node="7")
    success = outcome_from_history(recorded_history("ws_train_success.jsonl"), record)
    assert success.kind == "success" and success.losses is not None and len(success.losses) == 4
    interrupted = outcome_from_history(recorded_history("ws_train_interrupted.jsonl"), record)
    assert interrupted.kind == "interrupted"
    cached = outcome_from_history(recorded_history("ws_train_fully_cached.jsonl"), record)
    assert cached.kind == "error" and "cached" in cached.message


def test_lossgraph_zero_division_after_save_still_counts_as_saved() -> None:
    """steps: 1 → LossGraphNode raises, but SaveLoRANode had already run (recorded)."""
    record = ChunkRecord(1, "p", 1, 1, "f", train_node="4", save_node="5", preview_node=None)
    outcome = outcome_from_history(recorded_history("ws_train_node_error.jsonl"), record)
    assert outcome.kind == "success" and "ZeroDivisionError" in outcome.note
    record.save_node = "9"  # had the save node not run, it is a real failure
    outcome = outcome_from_history(recorded_history("ws_train_node_error.jsonl"), record)
    assert outcome.kind == "error" and "LossGraphNode" in outcome.message


def test_losses_parse_from_json_or_python_repr() -> None:
    assert parse_losses({"text": ['{"loss": [1.5, 2]}']}) == [1.5, 2.0]
    assert parse_losses({"text": ["{'loss': [0.05]}"]}) == [0.05]
    assert parse_losses(None) is None
