"""The app's brand on the connect page, kept legible: WCAG 2 contrast of each colour it gives.

The primary colour fills buttons (white text on it) and colours links (on the white page): it is
used only if it reaches 4.5:1 (WCAG AA for normal text) against white; otherwise the page keeps its
default. The side panel's text colour must reach 4.5:1 against its background, or both fall back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AA = 4.5
DEFAULT_PRIMARY = "#1f4fbf"      # 7.0:1 on white
DEFAULT_PANEL = "#f3f4f6"
DEFAULT_PANEL_TEXT = "#111827"
WHITE = "#ffffff"


def _rgb(color: str) -> tuple[int, int, int]:
    hex_ = color.lstrip("#")
    if len(hex_) == 3:
        hex_ = "".join(c * 2 for c in hex_)
    return int(hex_[0:2], 16), int(hex_[2:4], 16), int(hex_[4:6], 16)


def luminance(color: str) -> float:
    """Relative luminance (WCAG 2)."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@dataclass(frozen=True)
class Palette:
    primary: str
    panel: str
    panel_text: str
    fallbacks: tuple[str, ...]   # the theme colours not used, for too little contrast

    def css(self) -> str:
        return (f":root{{--primary:{self.primary};--panel:{self.panel};--panel-text:{self.panel_text};}}")


def palette(theme: dict[str, Any]) -> Palette:
    """The colours the page uses for ``theme`` (a session's), each legible (see the module docstring)."""
    fallbacks: list[str] = []
    primary = theme.get("primary_color") or DEFAULT_PRIMARY
    if contrast(primary, WHITE) < AA:
        fallbacks.append("primary_color")
        primary = DEFAULT_PRIMARY
    panel = theme.get("sidepanel_background_color") or DEFAULT_PANEL
    panel_text = theme.get("sidepanel_text_color") or DEFAULT_PANEL_TEXT
    if contrast(panel, panel_text) < AA:
        fallbacks.extend(k for k in ("sidepanel_background_color", "sidepanel_text_color") if k in theme)
        panel, panel_text = DEFAULT_PANEL, DEFAULT_PANEL_TEXT
    return Palette(primary.lower(), panel.lower(), panel_text.lower(), tuple(fallbacks))
