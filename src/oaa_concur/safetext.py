"""Text from Concur made safe for where it is shown: a log line, a terminal, a report cell.

Display names, user ids, error ``detail``s and company names come from the server and may hold
anything (design.md §3.7). Three outlets, three rules:

* ``one_line``: log messages and error sentences. CR, LF and TAB become a space (a newline in a
  user id must not forge a log line, nor split the final error line); every other control
  character (C0, DEL, C1: ``ESC[31m``, the 8-bit CSI ``U+009B``) and every bidi control is
  dropped, so nothing reaches the terminal as an escape sequence.
* ``terminal``: multi-line terminal output (``diff``). Like ``one_line`` but keeps LF and TAB.
* ``visible``: HTML and CSV reports. Bidi controls (``U+202A..U+202E``, ``U+2066..U+2069``,
  ``U+200E``/``U+200F``) and NUL are replaced by their ``\\u202e`` escape, so a reviewer sees
  that a name is reversed ("Trojan Source", CVE-2021-42574) instead of reading it reversed.

Each is one compiled character class: cheap enough for every log record and every report cell.
"""

from __future__ import annotations

import re

_BIDI = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_LINE_BREAKS = re.compile("[\t\n\r]")
_DROP_LINE = re.compile(f"[{_CONTROLS}{_BIDI}]")
_DROP_TERMINAL = re.compile(f"[\r{_CONTROLS}{_BIDI}]")
_INVISIBLE = re.compile(f"[\x00{_BIDI}]")


def one_line(text: str) -> str:
    """``text`` on one line with no control or bidi character (log lines, error sentences)."""
    return _DROP_LINE.sub("", _LINE_BREAKS.sub(" ", text))


def terminal(text: str) -> str:
    """``text`` without control characters except LF and TAB, and without bidi controls."""
    return _DROP_TERMINAL.sub("", text)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def visible(text: str) -> str:
    """Bidi controls and NUL written as ``\\u202e``-style escapes; the rest unchanged."""
    return _INVISIBLE.sub(_escape, text)
