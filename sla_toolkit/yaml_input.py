"""Reading the user's YAML (``sla.yaml``, ``source.yaml``) safely.

The files are the user's own configuration, but they may be copied from elsewhere or be the wrong path,
so the reader refuses what would hang, exhaust memory or silently change meaning:

- anything but a regular file (a directory, a FIFO that would block forever, ``/dev/zero``), and files
  larger than :data:`MAX_YAML_BYTES`;
- aliases (``*name``): an "alias bomb" expands a few lines into gigabytes, and a spec needs none;
- duplicate keys (YAML keeps the last one silently; here it is an error naming both lines);
- nesting deeper than :data:`MAX_YAML_DEPTH` (instead of a RecursionError).

Every refusal is a :class:`~sla_toolkit.errors.SpecError` (exit code 2) naming the file.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .filecheck import os_reason

MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 40


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without aliases, duplicate keys or deep nesting."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"alias *{event.anchor} is not accepted (write the value out; aliases can expand "
                "a small file into gigabytes)", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:   # an unhashable key: let PyYAML report it
                continue
            if first is not key_node.start_mark:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first.line + 1}); keep only one",
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_text_capped(path: Path, limit: int = MAX_YAML_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or a :class:`SpecError` saying why not."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))   # a FIFO must not block the open
    except OSError as exc:
        raise SpecError(str(path), [("", os_reason(exc))]) from None
    info = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(info.st_mode):
        problem = "is a directory, not a file"
    elif not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file (a pipe, device or socket); give the path of the YAML file itself"
    elif info.st_size > limit:
        problem = f"is {info.st_size:,} bytes; a spec or mapping file is at most {limit:,} bytes"
    if problem:
        os.close(fd)
        raise SpecError(str(path), [("", problem)])
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise SpecError(str(path), [("", f"grew past {limit:,} bytes while being read")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(str(path), [("", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text with the strict loader; errors become :class:`SpecError` with line and column."""
    loader = None
    try:
        loader = _StrictLoader(text)   # the reader checks the characters as it is built
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}: " if where else ""
        raise SpecError(source, [("", f"{at}not valid YAML ({getattr(exc, 'problem', None) or exc})")]) from None
    except RecursionError:
        raise SpecError(source, [("", "not valid YAML (nested too deeply)")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: str | Path) -> Any:
    """Read and parse a YAML file (see the module docstring for what is refused)."""
    path = Path(path)
    return parse_yaml(read_text_capped(path), str(path))
