"""The README's gallery comes from today's code and settings."""

import json
import re
from pathlib import Path

import pytest

from experiments import all as all_figures

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "figures"


def recorded() -> dict:
    return json.loads((GALLERY / "gallery.json").read_text())["figures"]


def test_gallery_records_every_figure_with_the_flags_experiments_all_uses_today():
    figures = recorded()
    assert list(figures) == [stem for stem, _, _ in all_figures.FIGURES]
    for stem, _, flags in all_figures.FIGURES:
        assert figures[stem]["flags"] == flags and figures[stem]["epochs_scale"] == 1.0, stem
        for name in figures[stem]["files"]:
            assert (GALLERY / name).is_file(), name


def test_every_image_the_readme_shows_is_in_the_gallery():
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"\]\((docs/figures/[^)]+)\)", readme)
    assert len(shown) >= 10
    for path in shown:
        assert (ROOT / path).is_file(), path


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["fig07_logic_or", "fig12_regression_sin"])
def test_rerunning_a_gallery_figure_gives_the_recorded_result(tmp_path, stem):
    """Change a default, a formula or the data and this fails until the gallery is remade."""
    module, flags = next((m, f) for s, m, f in all_figures.FIGURES if s == stem)
    summary = module.main([*flags, "--logdir", str(tmp_path), "--quiet", "--no-tensorboard"])
    assert summary["final_loss"] == pytest.approx(recorded()[stem]["final_loss"], rel=1e-5)
