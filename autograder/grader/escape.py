"""Student-controlled text, made safe for where it is shown.

A submission controls many strings that reach people: its exception types and messages,
what it prints, its folder and file names. Each is passed through one of these functions
before it lands anywhere:

- ``one_line``: no control characters (terminal escapes, carriage returns, bells), no line
  breaks, a length cap; used as soon as text arrives from the sandbox or the file system;
- ``for_terminal``: ``one_line`` plus a visible mark for what was removed;
- ``for_markdown``: every character that Markdown or GitHub tables give a meaning escaped,
  so a message cannot open a heading, a table row, a link, bold text or raw HTML;
- ``for_html``: ``html.escape`` of the one-line form.
"""

from __future__ import annotations

import html
import re
import unicodedata

_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def _printable(character: str) -> bool:
    category = unicodedata.category(character)
    # Cc control, Cf format (bidi overrides, zero-width), Cs/Co/Cn: surrogates, private, unassigned
    return not category.startswith("C")


def one_line(text: object, cap: int = 2000) -> str:
    """``text`` as one line of printable characters, at most ``cap`` of them."""
    value = str(text) if text is not None else ""
    if not value.isprintable():  # (fast: most text needs nothing)
        value = _BREAKS.sub(" ⏎ ", value).replace("\t", " ")
        value = "".join(c if _printable(c) else "�" for c in value)
    if len(value) > cap:
        value = value[:max(cap - 1, 0)] + "…"
    return value


def for_terminal(text: object, cap: int = 200) -> str:
    return one_line(text, cap)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$])")


def for_markdown(text: object, cap: int = 2000) -> str:
    """One line whose every Markdown-significant character is backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text, cap))


def for_html(text: object, cap: int = 2000) -> str:
    return html.escape(one_line(text, cap), quote=True)


def safe_name(name: str) -> bool:
    """Whether a student id or file name is plain enough to be a folder and a gradebook key."""
    return bool(name) and name == one_line(name, 200) and name not in (".", "..") \
        and "/" not in name and not name.startswith("-")
