"""role_chat.py with your own data: a dialogue file in, a preset folder out."""

import json
import os
import subprocess
import sys

from keras_roleplay.applications import RoleResponder
from keras_roleplay.metrics import reply_perplexity
from tests.cli import run_main

SCRIPT = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "applications", "role_chat.py"
)
# Three invented characters in short scenes: a guard, a traveller, a cook.
LINES = {
    "Ann": ["who goes there ?", "the gate is shut .", "show me your hands ."],
    "Bo": [
        "a friend , only a friend .",
        "i saw the smith at the anvil .",
        "let me in .",
    ],
    "Cy": ["the soup is hot .", "sit , eat , rest .", "more bread ?"],
}
TINY = ["--hidden-dim", "16", "--num-layers", "1", "--sampler", "greedy"]


def _script(path, scenes=8):
    with open(path, "w", encoding="utf-8") as f:
        for scene in range(scenes):
            for turn in range(6):
                speaker = ["Ann", "Bo", "Cy"][(turn + scene) % 3]
                text = LINES[speaker][(turn + scene) % 3]
                record = {"speaker": speaker, "text": text, "scene": scene}
                f.write(json.dumps(record) + "\n")
    return str(path)


def _fresh_process_replies(preset, role, lines):
    code = (
        "import json, sys, keras_roleplay\n"
        "from keras_roleplay.applications import RoleResponder\n"
        f"model = RoleResponder.from_preset({preset!r})\n"
        f"print(json.dumps(model.generate({lines!r}, role={role!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_dialogue_file_trains_a_preset_that_loads_elsewhere(tmp_path):
    characters = tmp_path / "characters.csv"
    characters.write_text(
        "name,description\nAnn,a guard at the gate\nBo,a tired traveller\n"
    )
    preset = str(tmp_path / "my_cast")
    lines = ["who goes there ?", "the soup is hot ."]
    result = run_main(
        SCRIPT, "--train", _script(tmp_path / "script.jsonl"),
        "--characters", str(characters), "--epochs", "2", "--pretrain-epochs", "1",
        "--save-preset", preset, "--role", "Bo", *TINY,
        stdin="\n".join(lines) + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 of 3 characters described" in result.stderr
    assert "lexicon: the" in result.stderr
    replies = result.stdout.strip().split("\n")
    assert len(replies) == 2
    assert _fresh_process_replies(preset, "Bo", lines) == replies

    # A fourth character, a smith, from 16 of its lines, added to the saved
    # preset; its other lines score better with its new role than with none.
    contexts = ["who goes there ?", "the gate is shut .", "more bread ?", "let me in ."]
    smith = ["the iron is hot at the anvil .", "the smith works the iron .",
             "hot iron , cold water .", "the anvil rings all day ."]  # fmt: skip
    examples = tmp_path / "dee.jsonl"
    with open(examples, "w") as f:
        for i in range(16):
            record = {"role": "Dee", "context": contexts[i % 4], "reply": smith[i % 4]}
            f.write(json.dumps(record) + "\n")
    grown = str(tmp_path / "my_cast_and_dee")
    result = run_main(
        SCRIPT, "--preset", preset, "--add-role", "Dee", "--examples", str(examples),
        "--save-preset", grown, "--role", "Dee", *TINY, stdin="who goes there ?\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "adding Dee from 16 of its lines" in result.stderr
    assert _fresh_process_replies(grown, "Dee", ["who goes there ?"]) == [
        result.stdout.strip()
    ]
    model = RoleResponder.from_preset(grown)
    held_out = ["the anvil is hot .", "iron , iron , all day .", "the smith is here ."]
    questions = contexts[:3]
    as_dee = reply_perplexity(model, model.dialogue_dataset(questions, held_out, "Dee"))
    no_role = reply_perplexity(model, model.dialogue_dataset(questions, held_out, None))
    # Measured: 26.0 as Dee against 44.0 with no role.
    assert as_dee < no_role, (as_dee, no_role)


def test_bad_own_data_arguments_are_named(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    result = run_main(SCRIPT, "--train", str(notes))
    assert result.returncode == 2 and ".jsonl/.csv dialogue file" in result.stderr
    result = run_main(SCRIPT, "--train", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 2 and "no such file" in result.stderr
    result = run_main(SCRIPT, "--add-role", "Dee")
    assert result.returncode == 2 and "--add-role and --examples" in result.stderr
    result = run_main(SCRIPT, "--characters", str(notes))
    assert result.returncode == 2 and "--characters goes with --train" in result.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    result = run_main(SCRIPT, "--save-preset", str(tmp_path / "full"))
    assert result.returncode == 2 and "not an empty folder" in result.stderr
    examples = tmp_path / "other.jsonl"
    examples.write_text('{"role": "Eve", "context": "hi", "reply": "hello"}\n')
    result = run_main(
        SCRIPT, "--add-role", "Dee", "--examples", str(examples), stdin=""
    )
    assert result.returncode == 1 and "has no line of 'Dee'" in result.stderr
    assert "(its roles: Eve)" in result.stderr
