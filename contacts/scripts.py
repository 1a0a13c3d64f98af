"""Call scripts: Django template language, validated on save and rendered when a call is issued.

A script may use only the variables of contacts.core.script_variables (and their listed attributes); anything else is refused
with its line number, so an admin never ships a script that shows an agent a blank or an error.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import FilterExpression, Node, VariableNode
from django.utils.translation import gettext as _

from contacts.core.script_variables import SCRIPT_VARIABLES


def script_variables() -> list[str]:
    """Every placeholder a script may use, as typed in a script (the editor's picker)."""
    return [f"{root}.{attr}" for root, attrs in SCRIPT_VARIABLES.items() for attr in sorted(attrs)]


_ENGINE = Engine(debug=True, string_if_invalid="", builtins=["django.template.defaultfilters"])


def _variable_nodes(nodes: Any) -> list[Node]:
    found: list[Node] = []
    for node in nodes:
        if isinstance(node, VariableNode):
            found.append(node)
        for attr in getattr(node, "child_nodelists", ()):
            found.extend(_variable_nodes(getattr(node, attr, None) or []))
    return found


def _unclosed_tags(source: str) -> list[str]:
    """The template language reads an unclosed ``{{ customer.first_name`` as plain text, so an agent would
    read it out, braces and all: refuse every opening without its closing, by line."""
    problems = []
    for number, line in enumerate(source.splitlines(), start=1):
        for opening, closing in (("{{", "}}"), ("{%", "%}")):
            position = 0
            while (start := line.find(opening, position)) != -1:
                end = line.find(closing, start + 2)
                if end == -1:
                    problems.append(
                        _("Line %(line)s: “%(opening)s” is not closed with “%(closing)s”.")
                        % {"line": number, "opening": opening, "closing": closing}
                    )
                    break
                position = end + 2
    return problems


def script_errors(source: str) -> list[str]:
    """Problems in a script, each naming its line; empty when the script is fine."""
    if not source:
        return []
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        line = getattr(error, "template_debug", {}).get("line", "?")
        return [_("Line %(line)s: %(reason)s") % {"line": line, "reason": error}]
    problems = _unclosed_tags(source)
    for node in _variable_nodes(template.nodelist):
        expression: FilterExpression = node.filter_expression  # type: ignore[attr-defined]
        var = getattr(expression.var, "var", None)
        if not isinstance(var, str):
            continue  # a literal
        parts = var.split(".")
        line = node.token.lineno if node.token else "?"
        allowed = SCRIPT_VARIABLES.get(parts[0])
        if allowed is None:
            problems.append(
                _("Line %(line)s: unknown variable “%(name)s”; use one of: %(known)s.")
                % {"line": line, "name": var, "known": ", ".join(sorted(SCRIPT_VARIABLES))}
            )
        elif len(parts) > 1 and parts[1] not in allowed:
            problems.append(
                _("Line %(line)s: “%(name)s” has no “%(attr)s”; use one of: %(known)s.")
                % {"line": line, "name": parts[0], "attr": parts[1], "known": ", ".join(sorted(allowed))}
            )
        elif len(parts) > 2:
            problems.append(_("Line %(line)s: “%(name)s” goes too deep.") % {"line": line, "name": var})
    return problems


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    # A daily build renders thousands of calls from a few dozen scripts: compile each script once.
    return _ENGINE.from_string(source)


def render_script(source: str, context: Mapping[str, Any]) -> str:
    """Render a validated script. A script that fails anyway renders as its source, never an error."""
    try:
        return _compiled(source).render(Context(dict(context), autoescape=False)).strip()
    except Exception:  # noqa: BLE001 - an agent must always see a script
        return source.strip()
