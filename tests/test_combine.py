"""subunit2.combine and its configuration, in process."""

from __future__ import annotations

import io
import sys

import pytest
from recorders import FULL, Recorder

from subunit2 import Event, StreamWriter, combine_config, decode_bytes, encode
from subunit2.combine import Combiner, child_test_id
from subunit2.combine_config import ConfigError, Settings, load_file, parse_command


def stream(*events: Event) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def test_files_merge_with_prefixed_route_codes_and_every_field():
    first = stream(Event(**FULL), Event(test_id="x", test_status="success"))
    second = b"noise" + stream(Event(test_id="y", test_status="skip", route_code="2"))
    recorder = Recorder()
    combiner = Combiner([], recorder, files=[io.BytesIO(first), io.BytesIO(second)])
    assert combiner.run() == 0
    received = [Event(**kwargs) for kwargs in recorder.events]
    assert Event(**{**FULL, "route_code": "0/0/1"}) in received
    routes = {(e.test_id, e.route_code) for e in received}
    assert {("x", "0"), ("y", "1/2"), (None, "1")} <= routes
    noise = [e for e in received if e.test_id is None]
    assert noise == [Event(file_name="stdout", file_bytes=b"noise", route_code="1")]


def test_no_passthrough_drops_non_subunit_bytes_but_counts_corrupt_packets():
    corrupt = bytearray(encode(test_id="x", test_status="success"))
    corrupt[-1] ^= 0xFF
    recorder = Recorder()
    combiner = Combiner(
        [], recorder, files=[io.BytesIO(b"text" + bytes(corrupt))], passthrough=False
    )
    assert combiner.run() == 1
    received = recorder.events
    assert all(e["test_id"] is not None for e in received)
    assert any(e["test_status"] == "fail" for e in received)


def test_a_child_that_cannot_start_is_a_failed_test_on_its_route():
    out = io.BytesIO()

    combiner = Combiner([["/nonexistent/producer", "--x"]], StreamWriter(out))
    assert combiner.run() == 1
    events = decode_bytes(out.getvalue())
    assert {e.route_code for e in events} == {"0"}
    assert [e.test_status for e in events] == ["inprogress", None, "fail"]
    assert events[-1].test_id == child_test_id(0) == "subunit-combine[0]"
    reason = events[1].file_bytes.decode()
    assert "/nonexistent/producer" in reason and "could not be started" in reason


def test_a_command_given_as_none_keeps_its_index_and_runs_nothing():
    out = io.BytesIO()

    producer = [
        sys.executable,
        "-c",
        "import sys; from subunit2 import StreamWriter;"
        " StreamWriter(sys.stdout).status(test_id='t', test_status='success')",
    ]
    assert Combiner([None, producer], StreamWriter(out)).run() == 0
    assert [(e.test_id, e.route_code) for e in decode_bytes(out.getvalue())] == [
        ("t", "1")
    ]


# Configuration.
def test_json_config_with_string_and_list_commands(tmp_path):
    path = tmp_path / "combine.json"
    path.write_text(
        '{"commands": ["python -m a \'two words\'", ["b", "--x y"]],'
        ' "list_option": "--collect", "load_list_mode": "all"}'
    )
    settings = load_file(str(path))
    assert settings.commands == [["python", "-m", "a", "two words"], ["b", "--x y"]]
    assert (settings.list_option, settings.load_list_option) == (
        "--collect",
        "--load-list",
    )
    assert settings.load_list_mode == "all"


def test_toml_config(tmp_path):
    pytest.importorskip("tomllib")
    path = tmp_path / "combine.toml"
    path.write_text('commands = ["run a", ["run", "b"]]\nload_list_option = "--ids"\n')
    settings = load_file(str(path))
    assert settings.commands == [["run", "a"], ["run", "b"]]
    assert settings.load_list_option == "--ids"


def test_toml_without_tomllib_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(combine_config, "_tomllib", lambda: None)
    path = tmp_path / "combine.toml"
    path.write_text('commands = ["a"]\n')
    with pytest.raises(ConfigError) as caught:
        load_file(str(path))
    message = str(caught.value)
    assert "3.11" in message and "JSON" in message and str(path) in message


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[1, 2]", "top level"),
        ('{"comands": []}', "unknown key 'comands'"),
        ('{"commands": "a b"}', "'commands' must be a list"),
        ('{"commands": [3]}', "commands[0]"),
        ('{"commands": [""]}', "empty command"),
        ('{"commands": ["a \'unbalanced"]}', "cannot split"),
        ('{"list_option": 5}', "'list_option'"),
        ('{"load_list_mode": "some"}', "partition, all"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, text, needle):
    path = tmp_path / "combine.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_file(str(path))
    assert needle in str(caught.value)


def test_bad_toml_is_reported(tmp_path):
    pytest.importorskip("tomllib")
    path = tmp_path / "c.toml"
    path.write_text("commands = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_file(str(path))


def test_parse_command_and_defaults():
    assert parse_command("a 'b c'", "x") == ["a", "b c"]
    assert parse_command(["a b"], "x") == ["a b"]
    assert Settings().load_list_mode == "partition"
