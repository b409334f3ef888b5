"""Lay out print HTML as PDF: HTML (UTF-8) on standard input, PDF bytes on standard output.

``posture.report.pdf`` runs this in a fresh interpreter so that WeasyPrint's layout and
painting (a few hundred megabytes for a large appendix) never add to the memory of the
process that loaded the catalog and read the store, and are all returned to the system
when the layout ends. The only argument is the base URL relative references resolve against.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m posture.report.pdf_worker BASE_URL < page.html", file=sys.stderr)
        return 2
    from weasyprint import HTML

    html = sys.stdin.buffer.read().decode("utf-8")
    pdf = HTML(string=html, base_url=argv[0]).write_pdf()
    if not isinstance(pdf, bytes):
        print("WeasyPrint returned no PDF data", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
