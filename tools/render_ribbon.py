"""Draw the Funnel tab as the built add-in's ribbon XML declares it: docs/img/ribbon.svg.

    python tools/render_ribbon.py [--lang en|zh-CN] [--out docs/img/ribbon.svg]

Builds the add-in (``workbook.addin.build_addin``), reads ``customUI/customUI14.xml`` back
from the file and draws its tab, groups and buttons in the order and with the labels it
gives. A drawing, not a screenshot: no Excel runs here, LibreOffice does not show customUI
ribbons, and Office's own icons (``imageMso``) are not available, so each button gets a
plain square with its icon's name under the label.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from udfs.addin import functions_module  # noqa: E402
from workbook.addin import CUSTOM_UI_NAMESPACE, CUSTOM_UI_PART, build_addin  # noqa: E402

UI = "{" + CUSTOM_UI_NAMESPACE + "}"
BUTTON_W, GAP, HEIGHT = 150, 8, 132


def render(ribbon: ElementTree.Element) -> str:
    tab = next(ribbon.iter(UI + "tab"))
    parts, x = [], 10
    for group in tab.iter(UI + "group"):
        buttons = list(group.iter(UI + "button"))
        width = len(buttons) * (BUTTON_W + GAP) + GAP
        parts.append(f'<rect x="{x}" y="40" width="{width}" height="{HEIGHT - 10}" fill="#f8f8f8" stroke="#d0d0d0"/>')
        for i, button in enumerate(buttons):
            bx = x + GAP + i * (BUTTON_W + GAP)
            parts.append(f'<rect x="{bx + BUTTON_W / 2 - 16}" y="50" width="32" height="32" rx="4" fill="#4472c4"/>')
            parts.append(f'<text x="{bx + BUTTON_W / 2}" y="100" text-anchor="middle" font-size="12">'
                         f'{escape(button.get("label", ""))}</text>')
            parts.append(f'<text x="{bx + BUTTON_W / 2}" y="114" text-anchor="middle" font-size="9" fill="#888">'
                         f'{escape(button.get("imageMso", ""))}</text>')
        parts.append(f'<text x="{x + width / 2}" y="{HEIGHT + 22}" text-anchor="middle" font-size="11" fill="#555">'
                     f'{escape(group.get("label", ""))}</text>')
        x += width + 6
    width = x + 4
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT + 40}" '
        'font-family="Segoe UI, Microsoft YaHei, sans-serif">',
        f'<rect width="{width}" height="{HEIGHT + 40}" fill="#ffffff"/>',
        '<rect x="10" y="8" width="90" height="28" fill="#f8f8f8" stroke="#d0d0d0"/>',
        f'<text x="55" y="27" text-anchor="middle" font-size="14" font-weight="bold">{escape(tab.get("label", ""))}</text>',
    ]
    return "\n".join(head + parts + ["</svg>", ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en", choices=["en", "zh-CN"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "ribbon.svg")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = build_addin(Path(folder) / "funnel.xlam", functions_module(), args.lang)
        with zipfile.ZipFile(path) as package:
            ribbon = ElementTree.fromstring(package.read(CUSTOM_UI_PART))
    args.out.write_text(render(ribbon), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
