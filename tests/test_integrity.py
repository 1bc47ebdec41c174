"""Integrity and safe loading: checksums, damaged files, bit flips, fuzzing, ``--resume`` junk.

Every file torchann reads back (``checkpoint.pt``, ``weights.json``) is either
refused with a one-line ``ValueError``/``TypeError`` that names the problem, or
loaded with exactly the content that was written -- never loaded different.
Run with ``-s`` to see the bit-flip and fuzz counts.
"""

import io
import json
import os
import pickle
import random
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import torch

from torchann import Checkpoint, TrainingDiverged, TwoLayerNet, Validation, data, fit
from torchann.runs import weights
from torchann.runs.checkpoint import FORMAT, VERSION, load_checkpoint
from torchann.runs.integrity import content_checksum
from torchann.runs.weights import weights_checksum
from torchann.runs.weights import export_weights, import_weights, weights_to_dict

ROOT = Path(__file__).resolve().parents[1]
XOR = data.logic_gate("xor", repeats=2, seed=1)
FIT = dict(lr=1.0, batch_size=3, seed=2)


def train_and_checkpoint(folder: Path, epochs: int = 3) -> Path:
    """A real checkpoint of a short run, with a Validation state and a config in it."""
    x, t = XOR
    path = folder / "checkpoint.pt"
    fit(TwoLayerNet(2, 3, 1, seed=1), x, t, epochs=epochs, **FIT,
        callbacks=[Validation(x, t, patience=10),
                   Checkpoint(path, config={"experiment": "test", "hidden": 3})])
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return train_and_checkpoint(tmp_path_factory.mktemp("run"))


def bits(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().contiguous().reshape(-1).view(torch.uint8)


def same(a, b) -> bool:
    """Equal all the way down: the same types, floats bit for bit, tensors in dtype, shape,
    requires_grad and every bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return (a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
                and torch.equal(bits(a), bits(b)))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        return a.hex() == b.hex()
    return a == b


def assert_one_line(error: BaseException, limit: int = 400) -> None:
    message = str(error)
    assert message and "\n" not in message and len(message) <= limit, repr(message)


def refused_or_loaded(load, path: Path, original) -> str:
    """'refused' (a one-line ValueError), 'identical' or 'different'."""
    try:
        loaded = load(path)
    except ValueError as error:
        assert_one_line(error)
        return "refused"
    return "identical" if same(loaded, original) else "different"


def resign(payload: dict) -> dict:
    """The payload with a checksum that matches it again: damaged, but consistently so."""
    return payload | {"checksum": content_checksum(payload)}


# --- checkpoints: the checksum ---------------------------------------------------------------


def test_a_checkpoint_carries_the_checksum_of_its_content(checkpoint):
    payload = load_checkpoint(checkpoint)
    assert payload["version"] == VERSION == 3
    assert payload["checksum"] == content_checksum(payload)
    assert content_checksum(payload | {"epoch": 3.0}) != payload["checksum"]  # types count
    assert content_checksum(payload | {"checksum": "x"}) == payload["checksum"]


@pytest.mark.parametrize("damage", [
    lambda p: p["state_dict"]["hidden.weight"].view(-1).__setitem__(0, 0.25),
    lambda p: p["order_state"].__setitem__(100, p["order_state"][100] ^ 1),
    lambda p: p["history"]["loss"].__setitem__(1, p["history"]["loss"][1] * 2),
    lambda p: p["fit_args"].__setitem__("lr", 2.0),
    lambda p: p["config"].__setitem__("hidden", 4),
    lambda p: p["callbacks"]["Validation"]["state"]["output.bias"].add_(1),
], ids=["weight", "generator", "history", "fit_args", "config", "callback"])
def test_changed_content_is_a_corrupt_checkpoint(tmp_path, checkpoint, damage):
    payload = load_checkpoint(checkpoint)
    damage(payload)  # the stored checksum now belongs to other content
    path = tmp_path / "c.pt"
    torch.save(payload, path)
    with pytest.raises(ValueError, match=f"corrupt checkpoint {path}") as info:
        load_checkpoint(path)
    assert_one_line(info.value)


def test_a_checkpoint_of_an_older_version_gets_the_version_error(tmp_path, checkpoint):
    payload = load_checkpoint(checkpoint)
    del payload["checksum"]
    torch.save(payload | {"version": 2}, tmp_path / "c.pt")
    with pytest.raises(ValueError, match="has checkpoint version 2; this torchann reads version 3"):
        load_checkpoint(tmp_path / "c.pt")


# --- checkpoints: loadable but damaged --------------------------------------------------------

DAMAGED = {
    "no state_dict": (lambda p: p.pop("state_dict"), "has no 'state_dict'"),
    "no order_state": (lambda p: p.pop("order_state"), "has no 'order_state'"),
    "state_dict a list": (lambda p: p.update(state_dict=[1.0]), "'state_dict' is a list"),
    "parameter not a tensor": (lambda p: p["state_dict"].update({"hidden.bias": [0.5]}),
                               "'state_dict' must map parameter names to floating-point tensors"),
    "history field renamed": (lambda p: p["history"].update(los=p["history"].pop("loss")),
                              r"history fields differ .*missing \['loss'\], unexpected \['los'\]"),
    "history wrong type": (lambda p: p["history"].update(loss="0.5"),
                           "history field 'loss' is not a list"),
    "history too short": (lambda p: p["history"]["lr"].pop(), "'lr' has 2 entries for 3 epochs"),
    "generator state zeros": (lambda p: p["order_state"].zero_(),
                              "'order_state' is not a generator state .*Invalid mt19937"),
    "generator state short": (lambda p: p.update(order_state=p["order_state"][:10]),
                              "'order_state' is not a generator state"),
    "generator state float": (lambda p: p.update(order_state=p["order_state"].double()),
                              "'order_state' is not a generator state"),
    "negative epoch": (lambda p: p.update(epoch=-1), "cannot be negative"),
    "epoch a bool": (lambda p: p.update(epoch=True), "'epoch' is a bool"),
    "step without losses": (lambda p: p.update(step=2), "step 2 with step losses of shape"),
    "fit_args a tensor": (lambda p: p["fit_args"].update(lr=torch.ones(2)), "plain values"),
    "callbacks a list": (lambda p: p.update(callbacks=[]), "'callbacks' is a list"),
    "config a list": (lambda p: p.update(config=[]), "'config' is not a dict"),
}


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_but_loadable_checkpoints_are_refused_in_one_line(tmp_path, checkpoint, name):
    damage, match = DAMAGED[name]
    payload = load_checkpoint(checkpoint)
    damage(payload)
    path = tmp_path / "c.pt"
    torch.save(resign(payload), path)
    with pytest.raises(ValueError, match=match) as info:
        load_checkpoint(path)
    assert_one_line(info.value)
    assert str(path) in str(info.value)
    if name != "config a list":  # the same dict handed to fit directly
        with pytest.raises(ValueError, match=match) as info:
            fit(TwoLayerNet(2, 3, 1), *XOR, epochs=5, **FIT, resume=payload)
        assert_one_line(info.value)


@pytest.mark.parametrize("resume,error,match", [
    ({}, ValueError, "has no 'run_id', 'epoch', 'step', 'order_state'"),
    ({"epoch": 1}, ValueError, "has no 'run_id', 'step'"),
    (42, TypeError, "a checkpoint is given as a path"),
    ([1, 2], TypeError, "a checkpoint is given as a path"),
])
def test_fit_resume_with_something_that_is_not_a_checkpoint(resume, error, match):
    with pytest.raises(error, match=match) as info:
        fit(TwoLayerNet(2, 3, 1), *XOR, epochs=2, **FIT, resume=resume)
    assert_one_line(info.value)


def test_resuming_from_a_dict_leaves_it_as_it_was(checkpoint):
    payload = load_checkpoint(checkpoint)
    first = fit(TwoLayerNet(2, 3, 1), *XOR, epochs=5, **FIT, resume=payload)
    again = fit(TwoLayerNet(2, 3, 1), *XOR, epochs=5, **FIT, resume=payload)
    assert len(payload["history"]["loss"]) == 3 and first.loss == again.loss


def test_a_config_a_checkpoint_cannot_hold_is_refused_when_the_callback_is_made(tmp_path):
    with pytest.raises(TypeError, match="plain data .*not PosixPath"):
        Checkpoint(tmp_path / "c.pt", config={"folder": tmp_path})


def test_a_step_beyond_the_end_of_the_epoch_is_refused(tmp_path, checkpoint):
    payload = load_checkpoint(checkpoint)
    payload.update(step=9, partial_losses=torch.zeros(9))  # 8 observations, batches of 3: 3 steps
    with pytest.raises(ValueError, match="step 9 of an epoch that has 3 steps"):
        fit(TwoLayerNet(2, 3, 1), *XOR, epochs=5, **FIT, resume=payload)


def test_a_checkpoint_of_another_dtype_is_another_network(checkpoint):
    with pytest.raises(ValueError, match="different network"):
        fit(TwoLayerNet(2, 3, 1, dtype=torch.float64), *XOR, epochs=5, **FIT, resume=checkpoint)


# --- checkpoints: absurd sizes and shapes -----------------------------------------------------


def rezip(source: Path, target: Path, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression) as new:
        for entry in old.infolist():
            new.writestr(entry.filename, old.read(entry))
    return target


def test_a_compressed_archive_is_refused_before_it_is_inflated(tmp_path):
    path = tmp_path / "big.pt"
    torch.save({"format": FORMAT, "version": VERSION, "x": torch.zeros(10_000_000)}, path)  # 40 MB
    bomb = rezip(path, tmp_path / "bomb.pt")  # about 40 kB that inflates to 40 MB
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ValueError, match="compressed entries"):
        load_checkpoint(bomb)


def test_the_old_non_zip_torch_format_is_not_parsed(tmp_path, checkpoint):
    path = tmp_path / "legacy.pt"
    torch.save(load_checkpoint(checkpoint), path, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="not a zip archive"):
        load_checkpoint(path)


def test_self_containing_and_exponentially_shared_content_is_refused_quickly(tmp_path):
    loop: list = []
    loop.append(loop)  # a list that holds itself: a plain walk would never end
    wide = [0.5]
    for _ in range(4):
        wide = [wide] * 1000  # 10^12 leaves in a few kB of pickle (shared references)
    for name, value in [("loop", loop), ("wide", wide)]:
        path = tmp_path / f"{name}.pt"
        torch.save({"format": FORMAT, "version": VERSION, "config": value}, path)
        with pytest.raises(ValueError, match="corrupt checkpoint .*nests too deeply or repeats"):
            load_checkpoint(path)


# --- weights.json -----------------------------------------------------------------------------


@pytest.fixture
def exported(tmp_path):
    net = TwoLayerNet(2, 3, 1, seed=4, dtype=torch.float32)
    return net, export_weights(net, tmp_path / "weights.json")


def test_weights_files_carry_a_checksum_that_is_checked(exported):
    net, path = exported
    spec = json.loads(path.read_text())
    assert spec["version"] == 2 and spec["checksum"] == weights_checksum(spec)
    spec["layers"][0]["bias"][0][1] += 0.5  # a changed number, still valid JSON
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=f"corrupt weights file {path}: its content does not "
                                         "match its checksum") as info:
        import_weights(path)
    assert_one_line(info.value)
    del spec["checksum"]  # version 2 promises one
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="corrupt weights file"):
        import_weights(path)


def test_hand_written_version_1_files_without_a_checksum_still_load(exported):
    net, path = exported
    spec = json.loads(path.read_text())
    del spec["checksum"]
    path.write_text(json.dumps(spec | {"version": 1}))
    loaded = import_weights(path)
    assert all(torch.equal(p, q) for p, q in zip(loaded.parameters(), net.parameters()))
    path.write_text(json.dumps(spec | {"version": 1, "checksum": "0" * 64}))  # one given is checked
    with pytest.raises(ValueError, match="corrupt weights file"):
        import_weights(path)


@pytest.mark.parametrize("version", [1, 2])
def test_a_number_too_large_for_float32_is_refused_not_made_inf(exported, version):
    _, path = exported
    spec = json.loads(path.read_text())
    spec["layers"][1]["weight"][0][0] = 1e39  # finite in float64, inf in float32
    spec = spec | {"version": version, "checksum": None}
    spec["checksum"] = weights_checksum(spec)
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="layer 1 weight contains NaN or inf, or a number too "
                                         "large for float32") as info:
        import_weights(path)
    assert_one_line(info.value)


def test_a_small_file_declaring_a_huge_layer_is_refused_before_any_net_is_built(
        tmp_path, monkeypatch):
    spec = weights_to_dict(TwoLayerNet(2, 3, 1))
    spec["sizes"] = [2, 1_000_000_000, 1]
    spec["checksum"] = weights_checksum(spec)
    path = tmp_path / "w.json"
    path.write_text(json.dumps(spec))
    assert path.stat().st_size < 2000

    def no_building(*args, **kwargs):
        raise AssertionError("a net was built (and its weights allocated) before the check")
    for name in ("SingleLayerNet", "TwoLayerNet", "MLP"):
        monkeypatch.setattr(weights, name, no_building)
    with pytest.raises(ValueError, match=r"layer 0 weight has shape \(2, 3\), expected "
                                         r"\(2, 1000000000\)") as info:
        import_weights(path)
    assert_one_line(info.value)


def test_a_weights_file_that_is_not_utf8_text_names_the_file(tmp_path):
    path = tmp_path / "w.json"
    path.write_bytes(b'{"format": "\xff\xfe"}')
    with pytest.raises(ValueError, match=f"{path} is not a valid torchann weights file: not UTF-8"):
        import_weights(path)


# --- bit flips: refused, or loaded identical; never loaded different ---------------------------


def zip_regions(path: Path) -> dict[str, tuple[int, int]]:
    """Byte ranges of a zip's parts: each entry's header and data, then the central directory."""
    regions, raw = {}, path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        entries = sorted(archive.infolist(), key=lambda e: e.header_offset)
        for entry in entries:
            start = entry.header_offset
            lengths = raw[start + 26:start + 30]  # the local header's name and extra-field lengths
            data_start = start + 30 + int.from_bytes(lengths[:2], "little") \
                + int.from_bytes(lengths[2:], "little")
            name = entry.filename.split("/", 1)[1]
            regions[f"{name} header"] = (start, data_start)
            regions[f"{name} data"] = (data_start, data_start + entry.compress_size)
        end = regions[f"{entries[-1].filename.split('/', 1)[1]} data"][1]
    regions["central directory"] = (end, len(raw))
    return {name: span for name, span in regions.items() if span[1] > span[0]}


def spread(span: tuple[int, int], count: int, rng: random.Random) -> list[int]:
    """``count`` positions in ``span``, one drawn from each of ``count`` equal slices of it."""
    start, end = span
    edges = [start + k * (end - start) // count for k in range(count + 1)]
    return [rng.randrange(a, max(b, a + 1)) for a, b in zip(edges, edges[1:])]


def flip_bits(raw: bytes, positions: list[int], rng: random.Random) -> list[tuple[int, bytes]]:
    """A copy of ``raw`` per position, with one random bit of that byte flipped."""
    copies = []
    for position in positions:
        flipped = bytearray(raw)
        flipped[position] ^= 1 << rng.randrange(8)
        copies.append((position, bytes(flipped)))
    return copies


def test_bit_flips_in_a_checkpoint_are_refused_or_harmless(tmp_path, checkpoint):
    original, raw = load_checkpoint(checkpoint), checkpoint.read_bytes()
    regions, rng = zip_regions(checkpoint), random.Random(13)
    # one flip inside each region of the archive (some are a few bytes), the rest spread evenly
    positions = [rng.randrange(*span) for span in regions.values()]
    positions += spread((0, len(raw)), 200 - len(positions), rng)
    counts, hit = Counter(), set()
    path = tmp_path / "checkpoint.pt"
    for position, flipped in flip_bits(raw, positions, rng):
        hit.update(name for name, (start, end) in regions.items() if start <= position < end)
        path.write_bytes(flipped)
        counts[refused_or_loaded(load_checkpoint, path, original)] += 1
    print(f"\ncheckpoint bit flips ({len(raw)} bytes): tried {sum(counts.values())}, refused "
          f"{counts['refused']}, loaded identical {counts['identical']}, loaded different "
          f"{counts['different']}")
    assert hit == set(regions), f"regions never flipped: {set(regions) - hit}"
    assert counts["different"] == 0 and sum(counts.values()) == 200


def test_bit_flips_in_a_weights_file_are_refused_or_harmless(exported, tmp_path):
    net, source = exported
    original = {"architecture": net.architecture(), "kind": type(net).__name__,
                "parameters": [p.detach() for p in net.parameters()]}

    def load(path):
        loaded = import_weights(path)
        return {"architecture": loaded.architecture(), "kind": type(loaded).__name__,
                "parameters": [p.detach() for p in loaded.parameters()]}

    raw, counts = source.read_bytes(), Counter()
    path = tmp_path / "flipped.json"
    rng = random.Random(14)
    for _, flipped in flip_bits(raw, spread((0, len(raw)), 200, rng), rng):
        path.write_bytes(flipped)
        counts[refused_or_loaded(load, path, original)] += 1
    print(f"\nweights.json bit flips ({len(raw)} bytes): tried {sum(counts.values())}, refused "
          f"{counts['refused']}, loaded identical {counts['identical']}, loaded different "
          f"{counts['different']}")
    assert counts["different"] == 0 and sum(counts.values()) == 200


# --- fuzzing: whatever the bytes, a one-line ValueError/TypeError or a correct load -------------


def random_value(rng: random.Random, depth: int = 0):
    """Random JSON-like (and, for checkpoints, tensor) content, with awkward values mixed in."""
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return rng.choice([None, True, False, 0, -1, 2 ** 70, 10 ** 400 if depth else 7])
    if kind == 1:
        return rng.choice([0.0, -0.0, 1e39, 1e308, float("nan"), float("inf"), rng.random()])
    if kind == 2:
        return "".join(rng.choice("ab\"\\\n\u00e9\ud800{}") for _ in range(rng.randrange(8)))
    if kind == 3:
        return rng.randrange(-3, 10)
    if kind == 4:
        shape = [rng.randrange(4) for _ in range(rng.randrange(3))]
        return torch.rand(shape, dtype=torch.float64).to(
            rng.choice([torch.float32, torch.float64, torch.uint8, torch.int64, torch.bool]))
    if kind == 5:
        return rng.choice(["format", "version", "sizes", "layers", "weight", "bias", "epoch"])
    if kind in (6, 7):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    keys = ["format", "version", "sizes", "layers", "loss", "checksum", "x", "", 0, 1.5, None]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def mutate(value, rng: random.Random):
    """A copy of ``value`` with one entry somewhere inside deleted or replaced."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        copy = dict(value)
        roll = rng.random()
        if roll < 0.25:
            del copy[key]
        elif roll < 0.5:
            copy[key] = random_value(rng)
        else:
            copy[key] = mutate(value[key], rng)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.7:
        i = rng.randrange(len(value))
        return value[:i] + [mutate(value[i], rng)] + value[i + 1:]
    if isinstance(value, torch.Tensor) and value.numel() and rng.random() < 0.5:
        copy = value.clone()
        copy.view(-1)[rng.randrange(copy.numel())] = rng.choice([0, 1, 255]) if \
            copy.dtype == torch.uint8 else rng.choice([0.0, 1e30, float("nan")])
        return copy
    return random_value(rng)


def random_zip(rng: random.Random, real: Path) -> bytes:
    """A zip as torch.save lays it out, each entry real, random, cut short or swapped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(real) as source, zipfile.ZipFile(buffer, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            roll = rng.random()
            if roll < 0.15:
                content = rng.randbytes(rng.randrange(64))
            elif roll < 0.3:
                content = content[:rng.randrange(len(content) + 1)]
            elif roll < 0.4 and entry.filename.endswith("data.pkl"):
                content = pickle.dumps(random_value(rng) if rng.random() < 0.5 else
                                       {"format": FORMAT, "version": VERSION,
                                        "checksum": "0", "x": random_value(rng)}, protocol=2)
            if rng.random() > 0.05:  # sometimes an entry goes missing
                target.writestr(entry.filename, content)
    return buffer.getvalue()


def fuzz_inputs(rng: random.Random, checkpoint_raw: bytes, checkpoint: Path,
                weights_raw: bytes, kinds: Counter):
    """Random files: truncations, bit flips and random bytes of both formats, random JSON,
    random zip archives, and real content with an entry removed or replaced and signed again."""
    real = load_checkpoint(checkpoint)
    spec = json.loads(weights_raw)
    while True:
        kind = rng.choice(["truncated", "flipped", "random bytes", "random JSON", "random zip",
                           "mutated and signed"])
        kinds[kind] += 1
        raw = rng.choice([checkpoint_raw, weights_raw])
        if kind == "truncated":
            yield raw[:rng.randrange(len(raw))]
        elif kind == "flipped":
            flipped = bytearray(raw)
            for _ in range(rng.randrange(1, 20)):
                flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            yield bytes(flipped)
        elif kind == "random bytes":
            yield rng.randbytes(rng.randrange(3000))
        elif kind == "random JSON":
            value = random_value(rng)
            yield json.dumps(value, default=lambda t: t.tolist()).encode("utf-8", "surrogatepass")
        elif kind == "random zip":
            yield random_zip(rng, checkpoint)
        else:
            buffer = io.BytesIO()
            mutated = mutate(real, rng)
            torch.save(resign(mutated) if isinstance(mutated, dict) else mutated, buffer)
            mutated = json.loads(json.dumps(mutate(spec, rng), default=lambda t: t.tolist()))
            if isinstance(mutated, dict):
                mutated["checksum"] = weights_checksum(mutated) if rng.random() < 0.9 else "x"
            yield rng.choice([buffer.getvalue(), json.dumps(mutated).encode()])


def run_fuzz(tmp_path: Path, checkpoint: Path, cases: int, seed: int) -> None:
    rng, kinds, outcomes = random.Random(seed), Counter(), Counter()
    net = TwoLayerNet(2, 3, 1, seed=4, dtype=torch.float32)
    weights_raw = export_weights(net, tmp_path / "weights.json").read_bytes()
    path = tmp_path / "fuzzed"
    inputs = fuzz_inputs(rng, checkpoint.read_bytes(), checkpoint, weights_raw, kinds)
    for _ in range(cases):
        path.write_bytes(next(inputs))
        for name, load in [("load_checkpoint", load_checkpoint),
                           ("import_weights", import_weights)]:
            try:
                loaded = load(path)
            except (ValueError, TypeError) as error:
                assert_one_line(error)
                outcomes[f"{name} refused"] += 1
                continue
            outcomes[f"{name} loaded"] += 1
            if name == "load_checkpoint":  # resuming from it: trains, or refuses in one line
                try:
                    fit(TwoLayerNet(2, 3, 1, seed=1), *XOR, epochs=4, **FIT, resume=loaded)
                except (ValueError, TypeError, TrainingDiverged) as error:
                    assert_one_line(error, limit=600)
    print(f"\nfuzz, {cases} files ({dict(kinds)}): {dict(outcomes)}")
    assert sum(outcomes.values()) == 2 * cases


def test_fuzzed_files_get_one_line_errors(tmp_path, checkpoint):
    run_fuzz(tmp_path, checkpoint, cases=1000, seed=1)


@pytest.mark.slow
def test_fuzzed_files_get_one_line_errors_at_length(tmp_path, checkpoint):
    run_fuzz(tmp_path, checkpoint, cases=10_000, seed=2)


# --- the command line: --resume with junk prints one error line and exits 2 --------------------


@pytest.fixture(scope="module")
def corrupted_run(tmp_path_factory) -> Path:
    from experiments import xor
    logdir = tmp_path_factory.mktemp("runs")
    xor.main(["--epochs", "2", "--repeats", "2", "--logdir", str(logdir), "--run-name", "r",
              "--no-tensorboard", "--quiet", "--images", "0"])
    run = logdir / "xor" / "r"
    regions = zip_regions(run / "checkpoint.pt")
    start, _ = regions["data/2 data"]  # inside a weight matrix
    raw = bytearray((run / "checkpoint.pt").read_bytes())
    raw[start + 1] ^= 0x10
    (run / "checkpoint.pt").write_bytes(bytes(raw))
    return run


def junk(what: str, folder: Path, corrupted_run: Path) -> Path:
    if what == "/etc/passwd" and not Path(what).is_file():
        pytest.skip("no /etc/passwd here")
    if what == "text file":
        (folder / "notes.txt").write_text("these are not the weights you are looking for\n" * 20)
    if what == "1-byte file":
        (folder / "one.pt").write_bytes(b"P")
    return {"/etc/passwd": Path(what), "text file": folder / "notes.txt",
            "1-byte file": folder / "one.pt", "corrupted run": corrupted_run}[what]


def assert_one_error_line(stderr: str, what: str) -> None:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--resume:" in errors[0], stderr
    if what == "corrupted run":
        assert "corrupt checkpoint" in errors[0]


@pytest.mark.parametrize("what", ["/etc/passwd", "text file", "1-byte file", "corrupted run"])
def test_resume_with_junk_is_a_usage_error(tmp_path, capsys, corrupted_run, what):
    from experiments import xor
    with pytest.raises(SystemExit) as info:
        xor.main(["--resume", str(junk(what, tmp_path, corrupted_run))])
    assert info.value.code == 2
    assert_one_error_line(capsys.readouterr().err, what)


@pytest.mark.parametrize("what", ["1-byte file", "corrupted run"])
def test_resume_with_junk_on_the_command_line_exits_2(tmp_path, corrupted_run, what):
    target = junk(what, tmp_path, corrupted_run)
    done = subprocess.run([sys.executable, "-m", "experiments.xor", "--resume", str(target)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=os.environ | {"MPLBACKEND": "Agg"})
    assert done.returncode == 2, done.stderr
    assert_one_error_line(done.stderr, what)
