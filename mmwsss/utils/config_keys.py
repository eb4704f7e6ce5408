"""Refuse ``--cfg-options`` keys that do not exist, naming the closest valid key.

mmengine's ``merge_from_dict`` adds any key it is given, so a typo (``clasifier.checkpoint=...``) silently
changes nothing the user meant. :func:`check_cfg_options` walks each dotted key through the config:

* a missing intermediate key is always refused (there is nothing it could configure);
* a missing last key is refused when ``strict`` (pipeline configs, whose keys are a fixed contract,
  optionally widened per section by ``allowed``), or when it is a near-miss of an existing key (a typo);
  a genuinely new key (no close match) is accepted for runner configs, where mmengine components take
  arguments the base config does not spell out.
"""
import difflib
from typing import Dict, Iterable, Mapping, Optional

# similarity (difflib ratio) above which a new key counts as a typo of an existing one: 'max_iter' vs 'max_iters'
# is 0.94, 'stem_channels' vs 'base_channels' 0.77 (two real keys)
TYPO_CUTOFF = 0.85


class ConfigKeyError(KeyError):
    """An unknown config key; the message names the key, the closest valid one and the file."""


def _closest(name: str, choices: Iterable[str], cutoff: float = 0.6) -> Optional[str]:
    hits = difflib.get_close_matches(name, [str(c) for c in choices], n=1, cutoff=cutoff)
    return hits[0] if hits else None


def check_cfg_options(cfg: Mapping, options: Optional[Mapping], where: str, strict: bool = False,
                      allowed: Optional[Dict[str, Iterable[str]]] = None, shown: Optional[str] = None) -> None:
    """Raise :class:`ConfigKeyError` for a key of ``options`` (``{'a.b.c': value}``) unknown to ``cfg``.

    Args:
        where: the config file, named in the message.
        strict: refuse every new last key, not only near-misses.
        allowed: section -> extra last keys accepted under it (e.g. hook arguments a section forwards).
        shown: the option as the user typed it, for the message (default: the key checked).
    """
    allowed = {k: set(v) for k, v in (allowed or {}).items()}
    for key in options or {}:
        node, parts = cfg, str(key).split('.')
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigKeyError(f'--cfg-options {shown or key}: {".".join(parts[:depth])} is a list of '
                                         f'{len(node)} items, {part!r} is not an index of it ({where})')
                node = node[int(part)]
                continue
            if not isinstance(node, Mapping):
                break  # below a scalar: mmengine replaces it by a dict, as asked
            if part in node:
                node = node[part]
                continue
            section = '.'.join(parts[:depth])
            near = _closest(part, list(node) + sorted(allowed.get(section, ())))
            if last and part in allowed.get(section, ()):
                break
            # a new runner-config key is fine unless it is one letter or so away from an existing one (a typo)
            if last and not strict and _closest(part, list(node), cutoff=TYPO_CUTOFF) is None:
                break
            hint = f"; did you mean {'.'.join(parts[:depth] + [near])}?" if near else ''
            known = ', '.join(sorted(map(str, node))[:12])
            full = f'{section}.{part}' if section else part
            raise ConfigKeyError(f'--cfg-options {shown or key}: {full} is not a key of {where}{hint} '
                                 f'(keys here: {known})')
