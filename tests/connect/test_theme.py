"""Brand colours are used only where they stay legible (WCAG 2 AA, 4.5:1)."""

from __future__ import annotations

import pytest

from unigate.connect.theme import DEFAULT_PANEL, DEFAULT_PANEL_TEXT, DEFAULT_PRIMARY, WHITE, contrast, palette


def test_contrast_ratios() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#fff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#767676", WHITE) == pytest.approx(4.54, abs=0.01)   # the lightest grey that passes AA


def test_the_defaults_pass() -> None:
    assert contrast(DEFAULT_PRIMARY, WHITE) >= 4.5 and contrast(DEFAULT_PANEL, DEFAULT_PANEL_TEXT) >= 4.5


@pytest.mark.parametrize(("given", "used"), [("#0b5394", "#0b5394"), ("#286EFA", DEFAULT_PRIMARY),
                                              ("#ffdd00", DEFAULT_PRIMARY), ("#000", "#000")])
def test_the_primary_colour_is_used_only_if_white_text_on_it_is_legible(given: str, used: str) -> None:
    assert palette({"primary_color": given}).primary == used


def test_a_side_panel_whose_text_is_illegible_falls_back_whole() -> None:
    chosen = palette({"sidepanel_background_color": "#286efa", "sidepanel_text_color": "#ffffff"})
    assert (chosen.panel, chosen.panel_text, chosen.fallbacks) == (
        DEFAULT_PANEL, DEFAULT_PANEL_TEXT, ("sidepanel_background_color", "sidepanel_text_color"))
    legible = palette({"sidepanel_background_color": "#1e3a8a", "sidepanel_text_color": "#ffffff"})
    assert (legible.panel, legible.fallbacks) == ("#1e3a8a", ())
