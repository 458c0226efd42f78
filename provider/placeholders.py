"""Plan-time checks of payload placeholders against the event catalogue.

A payload value is a template: when an event fires, Humanitec replaces each
``${name}`` with the event's value (written ``$${name}`` in HCL). A mistyped
name, or one the webhook's triggers do not provide, is otherwise found only in
production, by someone reading an unfilled field. Both are warnings on the
payload key (``payload["key"]``): the webhook still works, just not as meant.

``payload`` is a map of strings, as in the official provider: there is no
nesting to walk, and JSON written inside a value is text like any other. What
counts as a placeholder is :data:`provider.events.PLACEHOLDER`, taken literally,
since Humanitec documents exact ``${name}`` tokens and nothing looser:

* ``${ app_id }`` and ``${APP_ID}`` are not ``${app_id}``: warned as unknown,
  suggesting ``${app_id}``; ``${}`` is an unknown placeholder with no name;
* ``$5``, ``100%``, ``$$``, ``%{x}`` and a ``${`` never closed are literal text;
* a value still unknown (the whole payload, one of its values, the triggers or
  a trigger's scope or type) is not judged: Terraform validates again once it
  is known. An unknown trigger does not count as providing or lacking anything,
  and neither does a trigger that is not an event (that is an error of its own).
"""

from __future__ import annotations

from . import events
from .messages import did_you_mean
from .plugin import cty
from .plugin.diagnostics import AttributePath, Diagnostics, MapKey

__all__ = ["KNOWN_PLACEHOLDERS", "check_triggers_provide"]


class KnownPlaceholders:
    """Each ``${name}`` in a payload value must be a variable some event provides."""

    description = "placeholders ${name} that Humanitec's events provide"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, dict):
            return
        known = frozenset(events.VARIABLE_NAMES)
        for key, text in value.items():
            if not isinstance(text, str):
                continue  # unknown until apply, or null (reported elsewhere)
            for name in _names(text):
                if name not in known:
                    diags.warning(
                        "Unknown Payload Placeholder",
                        f"No Humanitec event provides {_shown(name)}, so the receiver gets "
                        f"it as written.{_hint(name)} Placeholders are "
                        f"{', '.join(_shown(n) for n in events.VARIABLE_NAMES)}; write "
                        "them as $${name} in HCL.",
                        (*path, MapKey(key)),
                    )


def check_triggers_provide(payload: cty.Value, triggers: cty.Value, diags: Diagnostics) -> None:
    """Warn about each placeholder that some of the selected triggers do not provide,
    naming those triggers: their calls leave it unfilled (``${deploy_id}`` on
    ``environment/created``). Placeholders no event provides are
    :class:`KnownPlaceholders`' to report."""
    if not (isinstance(payload, dict) and isinstance(triggers, list)):
        return
    selected = _selected_events(triggers)
    if not selected:
        return
    for key, text in payload.items():
        if not isinstance(text, str):
            continue
        for name in _names(text):
            lacking = [e for e in selected if name not in e.variable_names()]
            if not lacking or name not in events.VARIABLE_NAMES:
                continue
            providers = [e for e in events.EVENTS if name in e.variable_names()]
            diags.warning(
                "Placeholder Not Provided By Trigger",
                f"{_shown(name)} is not provided by the trigger"
                f"{'s' if len(lacking) > 1 else ''} {_listed(lacking)}, whose calls leave it "
                f"unfilled; only {_listed(providers)} provide it. Use it in a webhook whose "
                "triggers all provide it, or make one webhook per kind of event.",
                ("payload", MapKey(key)),
            )


def _selected_events(triggers: list[cty.Value]) -> list[events.Event]:
    """The catalogue events among the known triggers, in catalogue order, each once."""
    chosen = set()
    for trigger in triggers:
        if isinstance(trigger, dict):
            scope, type_ = trigger.get("scope"), trigger.get("type")
            if isinstance(scope, str) and isinstance(type_, str):
                chosen.add((scope, type_))
    return [e for e in events.EVENTS if (e.scope, e.type) in chosen]


def _names(text: str) -> list[str]:
    """The distinct placeholder names in ``text``, in order; fast when there is none."""
    return list(dict.fromkeys(events.placeholders(text))) if "${" in text else []


def _hint(name: str) -> str:
    guess = did_you_mean(name, events.VARIABLE_NAMES)
    return f" Did you mean {_shown(guess)}?" if guess else ""


_SHOWN = 60


def _shown(name: str) -> str:
    """``${name}`` for a message: invisible characters escaped, a long name cut short."""
    text = name if name.isprintable() else repr(name)[1:-1]
    return "${" + (text if len(text) <= _SHOWN else f"{text[:_SHOWN]}...") + "}"


def _listed(chosen: list[events.Event]) -> str:
    names = [f"{e.scope}/{e.type}" for e in chosen]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


KNOWN_PLACEHOLDERS = KnownPlaceholders()
