"""What the preloaded dbt process (``pipelines.lib.dbt_preload``) does once, before it forks,
so that no dbt command forked from it does it again.

Some costs of dbt Core 1.11 are paid per command, or per event, and none changes what dbt
writes:

- **Events nobody logs.** dbt fires about 26 events per node, most of them at debug level (each
  statement, each connection). For every event it builds a protobuf message, and for every
  logger (standard output, ``dbt.log``) it renders the line — JSON through a dict, or text with
  the environment's secrets scrubbed — before Python's logging drops it for being below the
  logger's level. A build logs at info (``--log-level-file info``; dagster-dbt reads info lines),
  so on the demo 9,500 of 10,300 events were built and rendered twice for nothing: about 2 s of a
  16 s ``dbt build``. ``skip_unlogged_events`` keeps an event's line from being rendered when its
  logger would drop it, and the event itself from being built when no logger and no callback
  could use it. Every line that is written is written as before, from the same message.
- **Code dbt generates lazily.** dbt's classes (de)serialise through code that mashumaro
  generates at the first use, and validate its project files against JSON schemas built at the
  first use: about 0.6 s of every command's start, before its first node. ``warm_up`` uses them
  once, here, reading the project's kept parse; the forked commands inherit the result.
- **pandas, imported by the first query.** DuckDB's first query in a dbt command imports pandas
  (with numpy and pyarrow), about 0.4 s of every command. ``warm_up`` imports it here, with
  numpy's OpenBLAS and pyarrow's jemalloc told not to start the threads they start by default:
  the process must still have no thread but its own when it forks. dbt does no linear algebra,
  and jemalloc's background thread only returns freed memory to the system sooner.

- **The kept parse, read by every command.** Each command deserialises the project's
  ``partial_parse.msgpack`` (about 0.3 s) before checking that it still matches the project.
  ``keep_parse`` reads it here once; the command forked next takes that manifest when the file
  it reads holds the same bytes, and dbt's own checks then run on it as on a manifest it read.
- **Naming where each behaviour flag comes from.** dbt walks ``inspect.stack()``, reading the
  source lines of every frame, to name the module of each adapter flag: about 0.15 s of every
  command. ``name_behavior_sources_cheaply`` walks the same frames without their lines.
- **Collecting garbage across the preloaded objects.** A dbt build makes reference cycles at
  every node (each node's context holds a wrapper of every macro, and each wrapper the
  context), so Python's collector runs often, and its full collections traverse everything the
  process holds. ``freeze_heap``, just before forking, moves the preloaded objects out of the
  collector's reach: on the demo the two builds took about 1.5 s less with the last three
  changes.

All are optional: when dbt's internals are not what they were written against (another dbt
version), ``skip_unlogged_events`` and ``name_behavior_sources_cheaply`` change nothing and
return False, and ``warm_up`` and ``keep_parse`` ignore any error.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import logging
import os
import sys
from pathlib import Path
from typing import Any

_DEBUG = logging.DEBUG


def skip_unlogged_events() -> bool:
    """Install the two shortcuts (module docstring) on dbt's event logging. Returns whether they
    are installed: False when dbt's event manager or loggers lack what they rely on."""
    try:
        from dbt.tracking import track_behavior_change_warn
        from dbt_common.events import event_manager, logger
        from dbt_common.events.base_types import EventLevel
    except ImportError:
        return False
    manager_class, logger_class = event_manager.EventManager, logger._Logger
    if getattr(logger_class.write_line, "_owh_skips", False):
        return True
    if not all(
        hasattr(owner, name)
        for owner, name in (
            (manager_class, "fire_event"),
            (logger_class, "write_line"),
            (logger, "_is_print_event"),
            (logger, "_log_level_map"),
        )
    ):
        return False
    # Python's logging level of each of dbt's event levels, as a message names it
    logging_levels = {level.value: number for level, number in logger._log_level_map.items()}
    write_line, fire_event = logger_class.write_line, manager_class.fire_event
    unlogged_levels = (EventLevel.DEBUG, EventLevel.TEST)

    def write_logged_line(self: Any, msg: Any) -> None:
        python_logger = getattr(self, "_python_logger", None)
        level = logging_levels.get(msg.info.level)
        if (
            python_logger is not None
            and level is not None
            and not logger._is_print_event(msg)  # dbt logs these as errors, whatever their level
            and not python_logger.isEnabledFor(level)
        ):
            return  # the line logging would drop: not rendered
        write_line(self, msg)

    def fire_used_event(
        self: Any,
        e: Any,
        level: Any = None,
        node: Any = None,
        force_warn_or_error_handling: bool = False,
    ) -> None:
        if (
            (level or e.level_tag()) in unlogged_levels
            and not force_warn_or_error_handling
            # dbt's own callback reads only a warning (BehaviorChangeEvent); any other one, as
            # dbtRunner's callbacks, may read every event
            and all(callback is track_behavior_change_warn for callback in self.callbacks)
            and all(_drops_debug(each) for each in self.loggers)
        ):
            return  # a debug event that no logger writes and no callback reads: not built
        fire_event(self, e, level, node, force_warn_or_error_handling)

    write_logged_line._owh_skips = True  # type: ignore[attr-defined]
    logger_class.write_line = write_logged_line
    manager_class.fire_event = fire_used_event
    return True


# What keeps numpy's OpenBLAS and pyarrow's jemalloc from starting a thread when they load.
SINGLE_THREAD_ENVIRONMENT = {
    "OPENBLAS_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}


def preload_pandas() -> bool:
    """Import pandas the way that starts no thread (module docstring), unless numpy or pyarrow
    was imported already, with whatever threads it started. Returns whether it imported."""
    if "numpy" in sys.modules or "pyarrow" in sys.modules:
        return False
    os.environ.update(SINGLE_THREAD_ENVIRONMENT)
    import pandas  # noqa: F401

    return True


def _drops_debug(event_logger: Any) -> bool:
    python_logger = getattr(event_logger, "_python_logger", None)
    return python_logger is not None and not python_logger.isEnabledFor(_DEBUG)


def warm_up(kept_parse: Path | None) -> None:
    """Generate, in this process, the code every dbt command generates before its first node:
    the JSON schemas its project files are validated against, and the (de)serialisers of the
    manifest, by reading ``kept_parse`` (the project's ``partial_parse.msgpack``) and flattening
    its graph as a build does; and import pandas (``preload_pandas``). Opens no database and
    starts no thread."""
    preload_pandas()
    with contextlib.suppress(Exception):
        from dbt.contracts.project import (
            Configuration,
            PackageConfig,
            ProfileConfig,
            Project,
            ProjectFlags,
        )
        from dbt.contracts.selection import SelectorFile

        for schema_class in (
            Project,
            ProjectFlags,
            PackageConfig,
            ProfileConfig,
            Configuration,
            SelectorFile,
        ):
            schema_class.json_schema()
    if kept_parse is None or not kept_parse.is_file():
        return
    with contextlib.suppress(Exception):
        from dbt.contracts.graph.manifest import Manifest
        from dbt.parser.manifest import extended_mashumuro_decoder

        manifest = Manifest.from_msgpack(
            kept_parse.read_bytes(), decoder=extended_mashumuro_decoder
        )
        manifest.build_flat_graph()
        del manifest
    gc.collect()


def keep_parse(kept_parse: Path | None) -> bool:
    """Read ``kept_parse`` (the project's ``partial_parse.msgpack``) once, here: the first dbt
    command of this process, or of a process forked from it, that reads the same bytes gets that
    manifest instead of deserialising it again (about 0.3 s of each command's start). dbt still
    checks, as it always does, that the kept parse matches the project before it uses it; bytes
    that differ in any way are read as dbt reads them. Returns whether a parse is kept."""
    if kept_parse is None or not kept_parse.is_file():
        return False
    try:
        from dbt.contracts.graph.manifest import Manifest
        from dbt.parser.manifest import extended_mashumuro_decoder

        payload = kept_parse.read_bytes()
        kept = [(payload, Manifest.from_msgpack(payload, decoder=extended_mashumuro_decoder))]
        # dbt's reader as generated by that first read (mashumaro installs it on the class)
        read = Manifest.__dict__["from_msgpack"].__func__
    except Exception:
        return False

    def from_msgpack(cls: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            kept
            and cls is Manifest
            and not args
            and kwargs == {"decoder": extended_mashumuro_decoder}
            and data == kept[0][0]
        ):
            return kept.pop()[1]  # once: the command that takes it may change it
        return read(cls, data, *args, **kwargs)

    Manifest.from_msgpack = classmethod(from_msgpack)  # type: ignore[method-assign,assignment]
    return True


def name_behavior_sources_cheaply() -> bool:
    """dbt names the module that declares each of its adapter's behaviour flags by walking
    ``inspect.stack()``, which reads the source lines of every frame: about 0.15 s of every
    command's start. The same walk without source lines (``inspect.stack(0)``) finds the same
    module. Returns whether installed (False when dbt's class is not as written against)."""
    try:
        from dbt_common.behavior_flags import BehaviorFlagRendered
    except ImportError:
        return False
    if not isinstance(BehaviorFlagRendered.__dict__.get("_default_source"), staticmethod):
        return False
    declaring_module = BehaviorFlagRendered.__module__

    def _default_source() -> str:
        for frame in inspect.stack(0)[1:]:  # from its caller on, as dbt's own walk goes
            module = inspect.getmodule(frame[0])
            if module is not None and module.__name__ != declaring_module:
                return module.__name__
        return "Unknown"

    BehaviorFlagRendered._default_source = staticmethod(_default_source)  # type: ignore[method-assign]
    return True


def freeze_heap() -> None:
    """Move every object this process holds to the collector's permanent generation, just
    before it forks: a command forked from it never traverses the preloaded dbt's objects (nor
    copies their memory by touching them) when it collects garbage."""
    gc.collect()
    gc.freeze()
