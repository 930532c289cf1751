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
- **Parsing a statement to find its first word.** dbt puts a unit test's fixtures into the
  tested model's SQL as CTEs after the statement's ``with``, which it finds by parsing the whole
  statement with sqlparse: about 65 ms a unit test, 7.4-7.6 s for the project's 115 unit tests
  (the nightly's builds have no CTEs to inject). ``inject_ctes_cheaply`` finds the same place
  with sqlparse's lexer alone: 0.3 s.
- **Typing every statement's result from scratch.** dbt builds a new agate ``TypeTester`` for
  each result, and with it parsedatetime calendars that compile dozens of regular expressions.
  ``reuse_type_testers`` builds each distinct tester once.
- **Collecting garbage across the preloaded objects.** A dbt build makes reference cycles at
  every node (each node's context holds a wrapper of every macro, and each wrapper the
  context), so Python's collector runs often, and its full collections traverse everything the
  process holds. ``freeze_heap``, just before forking, moves the preloaded objects out of the
  collector's reach: on the demo the two builds took about 1.5 s less with the last three
  changes.

All are optional: when dbt's internals are not what they were written against (another dbt
version), ``skip_unlogged_events``, ``name_behavior_sources_cheaply``,
``inject_ctes_cheaply`` and ``reuse_type_testers`` change nothing and return False, and
``warm_up`` and ``keep_parse`` ignore any error.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import logging
import multiprocessing
import operator
import os
import re
import sys
from collections.abc import Callable, Iterator
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


def warm_up(kept_parse: Path | None) -> Iterator[bool]:
    """Generate, in this process, the code every dbt command generates before its first node:
    the JSON schemas its project files are validated against, and the (de)serialisers of the
    manifest, by reading ``kept_parse`` (the project's ``partial_parse.msgpack``) and flattening
    its graph as a build does; and import pandas (``preload_pandas``). Opens no database and
    starts no thread. Returns the steps that compile the templates of that manifest
    (``templates_ahead``), for the caller to take when it has nothing else to do."""
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
    ahead: Iterator[bool] = iter(())
    if kept_parse is None or not kept_parse.is_file():
        return ahead
    with contextlib.suppress(Exception):
        from dbt.contracts.graph.manifest import Manifest
        from dbt.parser.manifest import extended_mashumuro_decoder

        manifest = Manifest.from_msgpack(
            kept_parse.read_bytes(), decoder=extended_mashumuro_decoder
        )
        manifest.build_flat_graph()
        ahead = templates_ahead(manifest)
        del manifest
    gc.collect()
    return ahead


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
        from dbt.mp_context import get_mp_context
        from dbt.parser.manifest import extended_mashumuro_decoder

        payload = kept_parse.read_bytes()
        manifest = Manifest.from_msgpack(payload, decoder=extended_mashumuro_decoder)
        # dbt's reader as generated by that first read (mashumaro installs it on the class)
        read = Manifest.__dict__["from_msgpack"].__func__
    except Exception:
        return False
    # dbt's reader gives the manifest a lock of dbt's multiprocessing context (spawn), a named
    # semaphore that multiprocessing's resource tracker removes if its process does not. The
    # preloaded process is killed when the run ends, so the tracker would remove the kept
    # manifest's and say so on the run's output. The kept manifest waits here with an unnamed
    # lock; the command that takes it gets a new one of dbt's context, as dbt's reader gives.
    manifest._lock = multiprocessing.get_context("fork").Lock()
    kept = [(payload, manifest)]

    def from_msgpack(cls: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            kept
            and cls is Manifest
            and not args
            and kwargs == {"decoder": extended_mashumuro_decoder}
            and data == kept[0][0]
        ):
            taken = kept.pop()[1]  # once: the command that takes it may change it
            taken._lock = get_mp_context().Lock()
            return taken
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


def reuse_type_testers() -> bool:
    """dbt turns every statement's result into an agate table, typing its columns with a
    ``TypeTester`` it builds again for each result (``build_type_tester``, and agate's default one
    for the empty table of a statement that returns nothing). Each tester builds its date and
    datetime types, and each of those a parsedatetime calendar whose constants compile dozens
    of regular expressions: 0.35 ms a tester, 0.21 ms an empty table, 823 calls and about
    0.23 s of the demo's first build, for testers that never differ.
    Here each distinct tester is built once (per set of text-only columns and null values) and
    the empty table gets one default tester; the tables are typed by the same kinds of tester as
    before. A tester holds no state of a table: ``run`` only reads it, as the tester dbt already
    shares at module level (``DEFAULT_TYPE_TESTER``) shows. Returns whether installed (False when
    dbt's helpers are not as written against)."""
    try:
        import agate
        from dbt_common.clients import agate_helper
    except ImportError:
        return False
    build = agate_helper.build_type_tester
    if getattr(build, "reuses_testers", False):
        return True
    try:
        parameters = list(inspect.signature(build).parameters)
    except (TypeError, ValueError):
        return False
    if parameters != ["text_columns", "string_null_values"] or not callable(
        getattr(agate_helper, "empty_table", None)
    ):
        return False

    @functools.lru_cache(maxsize=1024)
    def built(text_columns: frozenset[str], string_null_values: tuple[str, ...] | None) -> Any:
        return build(text_columns, string_null_values)

    def build_type_tester(text_columns: Any, string_null_values: Any = ("null", "")) -> Any:
        try:
            nulls = None if string_null_values is None else tuple(string_null_values)
            key = (frozenset(text_columns), nulls)
            hash(key)
        except TypeError:  # a column name or null value that cannot be a key: dbt's own way
            return build(text_columns, string_null_values)
        return built(*key)

    build_type_tester.reuses_testers = True  # type: ignore[attr-defined]
    default_tester = agate.TypeTester()

    def empty_table() -> Any:
        return agate.Table(rows=[], column_types=default_tester)

    agate_helper.build_type_tester = build_type_tester
    agate_helper.empty_table = empty_table
    return True


def inject_ctes_cheaply() -> bool:
    """dbt puts the CTEs a node needs (a unit test's fixtures, ephemeral models) into its SQL with
    ``inject_ctes_into_sql``, which parses the whole statement with sqlparse, grouping every
    token, only to find its leading ``with``: about a fifth of the CPU of ``dbt test --select
    test_type:unit``. Where the SQL is one statement whose first token past whitespace and
    comments is ``with`` (not ``with recursive``), the CTEs go where dbt puts them, before the
    next token that is not whitespace: found with sqlparse's own lexer, without its grouping. Any
    other SQL goes to dbt's function. Unlike dbt's, a statement too large for sqlparse's grouping
    limits is not refused. Returns whether installed (False when dbt's function is not there)."""
    try:
        from dbt import compilation
        from sqlparse import lexer
        from sqlparse import tokens as token_types
    except ImportError:
        return False
    dbt_inject = getattr(compilation, "inject_ctes_into_sql", None)
    if dbt_inject is None:
        return False
    if getattr(dbt_inject, "_owh_cheap", False):
        return True

    def ends_statement(token_type: Any, value: str) -> bool:
        """Whether sqlparse's statement splitter may end a statement at this token: a semicolon,
        or the batch separator GO."""
        if token_type is token_types.Punctuation:
            return value == ";"
        return token_type is token_types.Keyword and value.split()[0] == "GO"

    def after_leading_with(sql: str) -> int | None:
        """Where dbt puts the CTEs in a one-statement ``sql`` that starts with ``with``: before
        the first token after it that is not whitespace (sqlparse's ``insert_after``), or at the
        end; None for any other SQL."""
        # past the last character a statement could end at, only the position is looked for
        last_end = max(sql.rfind(";"), sql.rfind("GO"))
        offset, seen_with, position = 0, False, None
        for token_type, value in lexer.tokenize(sql):
            if position is not None and offset > last_end:
                break
            if ends_statement(token_type, value):
                return None  # dbt keeps the first statement only
            if position is None and token_type not in token_types.Whitespace:
                if seen_with:
                    if token_type in token_types.Keyword and value.upper() == "RECURSIVE":
                        return None
                    position = offset
                elif token_type in token_types.Keyword and value.upper() == "WITH":
                    seen_with = True
                elif token_type not in token_types.Comment:
                    return None
            offset += len(value)
        if not seen_with:
            return None
        return offset if position is None else position

    def inject_ctes_into_sql(sql: str, ctes: list[Any]) -> str:
        position = after_leading_with(sql) if ctes else None
        if position is None:
            return dbt_inject(sql, ctes)
        injected = ", ".join(cte.sql for cte in ctes)
        return f"{sql[:position]}{injected}, {sql[position:]}"

    inject_ctes_into_sql._owh_cheap = True  # type: ignore[attr-defined]
    compilation.inject_ctes_into_sql = inject_ctes_into_sql
    return True


# dbt's test for a generic test's argument that it wraps in "{{ }}" before rendering it
# (dbt.clients.jinja.add_rendered_test_kwargs); an argument it no longer wraps this way is only
# compiled in the command, as without this cache
_LOOKS_LIKE_FUNCTION = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")


def templates_ahead(manifest: Any) -> Iterator[bool]:
    """Steps that compile, here, the Jinja templates a build of ``manifest``'s project compiles,
    one at each step, which says whether that template compiled: each node's code, each generic
    test's arguments, then the macros a build calls. The templates are chosen now; the steps
    keep no reference to the manifest. The preloaded process takes them while it waits for a
    command (``pipelines.lib.dbt_preload.serve``), so that compiling never delays one.

    Jinja turns each template's source into Python code before it renders it, about 1 ms a
    template, and dbt keeps nothing across commands: the demo's two builds compiled some 1,000
    templates (about 1.5 s). Macros go into dbt's own template cache, which is keyed by the
    macro's source. Nodes' code and tests' arguments (which dbt renders with a new template for
    every node) go into a cache keyed by the source and by the kind of environment (text or
    native), which ``get_template`` then reads: the same source gives the same code, bound to a
    new environment and the node's context as ``Environment.from_string`` binds it. The macros
    are those the nodes call, the adapter's and the default materializations, and, from each,
    every macro it calls and its adapter and default implementations (``_called_macros``):
    about 380 of the demo's 620, among them 191 of the 197 its builds call. A source not
    compiled here, a source that does not compile (dbt reports it when it renders it), and
    every template under dbt's macro debugging are compiled by dbt as before."""
    try:
        from dbt.clients import jinja as dbt_jinja
        from dbt_common.clients import jinja as common_jinja
        from dbt_common.utils import deep_map_render
    except ImportError:
        return iter(())
    if common_jinja.MACRO_DEBUGGING or not hasattr(dbt_jinja, "_HAS_RENDER_CHARS_PAT"):
        return iter(())
    rendered = dbt_jinja._HAS_RENDER_CHARS_PAT
    sources: dict[tuple[bool, str], None] = {}  # in the nodes' order, once each

    def test_argument(value: Any, keypath: tuple[Any, ...]) -> Any:
        if isinstance(value, str) and keypath != ("column_name",):
            if _LOOKS_LIKE_FUNCTION.match(value):
                value = f"{{{{ {value} }}}}"
            if rendered.search(value):
                sources[True, value] = None
        return value

    for node in manifest.nodes.values():
        code = getattr(node, "raw_code", None)
        if isinstance(code, str) and rendered.search(code):
            sources[False, code] = None
        test_metadata = getattr(node, "test_metadata", None)
        if test_metadata is not None:
            with contextlib.suppress(Exception):
                deep_map_render(test_argument, test_metadata.kwargs)
    return _compile_each(common_jinja, dbt_jinja, list(sources), _called_macros(manifest))


def _compile_each(
    common_jinja: Any, dbt_jinja: Any, sources: list[tuple[bool, str]], macros: list[Any]
) -> Iterator[bool]:
    compiled = _compiled_templates(common_jinja, dbt_jinja)

    def compile_source(native: bool, source: str) -> None:
        environment = common_jinja.get_environment(None, native=native)
        compiled[native, source] = environment.compile(source)

    steps = [functools.partial(compile_source, native, source) for native, source in sources]
    steps += [functools.partial(common_jinja.template_cache.get_node_template, m) for m in macros]
    for step in steps:
        try:
            step()
        except Exception:
            yield False
        else:
            yield True


def _called_macros(manifest: Any) -> list[Any]:
    """The macros a build of ``manifest`` is expected to call: those its nodes depend on and the
    materializations of its adapter and of the default, with every macro they call, and, for
    each macro, the implementations dbt's dispatch would pick (``<adapter>__name``,
    ``default__name``). Calls made from Python (the adapter's) and dispatches to other names
    are not found, and are compiled by dbt when called."""
    macros = manifest.macros
    adapter = getattr(getattr(manifest, "metadata", None), "adapter_type", None) or "default"
    prefixes = [f"{adapter}__", "default__"]
    by_name: dict[str, list[str]] = {}
    for unique_id, macro in macros.items():
        by_name.setdefault(macro.name, []).append(unique_id)
    wanted: list[str] = []
    for node in manifest.nodes.values():
        depends_on = getattr(node, "depends_on", None)
        wanted.extend(getattr(depends_on, "macros", None) or [])
    materializations = (f"_{adapter}", "_default")
    wanted.extend(
        unique_id
        for unique_id, macro in macros.items()
        if macro.name.startswith("materialization_") and macro.name.endswith(materializations)
    )
    found: dict[str, None] = {}
    while wanted:
        unique_id = wanted.pop()
        if unique_id in found or unique_id not in macros:
            continue
        found[unique_id] = None
        macro = macros[unique_id]
        wanted.extend(macro.depends_on.macros)
        for prefix in prefixes:
            wanted.extend(by_name.get(prefix + macro.name, ()))
    return [macros[unique_id] for unique_id in found]


def _compiled_templates(common_jinja: Any, dbt_jinja: Any) -> dict[tuple[bool, str], Any]:
    """The cache of compiled node and test-argument templates, installed as dbt's
    ``get_template`` on first use (``templates_ahead``)."""
    installed = common_jinja.get_template
    if getattr(installed, "_owh_compiled", None) is not None:
        return installed._owh_compiled
    compiled: dict[tuple[bool, str], Any] = {}

    def get_template(
        string: Any,
        ctx: Any,
        node: Any = None,
        capture_macros: bool = False,
        native: bool = False,
    ) -> Any:
        code = compiled.get((native, string)) if type(string) is str else None
        if code is None:
            return installed(string, ctx, node, capture_macros, native)
        with common_jinja.catch_jinja(node):
            environment = common_jinja.get_environment(node, capture_macros, native=native)
            return environment.template_class.from_code(
                environment, code, environment.make_globals(ctx), None
            )

    get_template._owh_compiled = compiled  # type: ignore[attr-defined]
    common_jinja.get_template = get_template
    dbt_jinja.get_template = get_template
    return compiled


def freeze_heap() -> None:
    """Move every object this process holds to the collector's permanent generation, just
    before it forks: a command forked from it never traverses the preloaded dbt's objects (nor
    copies their memory by touching them) when it collects garbage."""
    gc.collect()
    gc.freeze()


class _NamespacePlan:
    """Where each macro of one ``macros_by_package`` goes in the namespace of a node of one
    package, and the keys that namespace flattens to: read from a namespace dbt's own builder
    built (``template``). Macros are named by their position in ``macros``; each part of the
    namespace is a list of names and a picker of their macros' wrappers."""

    def __init__(self, macros_by_package: Any, macros: list[Any], template: Any) -> None:
        self.source = macros_by_package
        self.macros = macros
        position = {id(macro): index for index, macro in enumerate(macros)}

        def places(namespace: dict[str, Any]) -> tuple[tuple[str, ...], Callable[[Any], Any]]:
            names = tuple(namespace)
            return names, _picker([position[id(func.macro)] for func in namespace.values()])

        self.locals = places(template.local_namespace)
        self.globals = places(template.global_namespace)
        self.global_project = places(template.global_project_namespace)
        self.packages = [(name, places(funcs)) for name, funcs in template.packages.items()]
        package_names = {id(funcs): name for name, funcs in template.packages.items()}
        # the keys the namespace flattens to: each finds a macro, a package's macros, or the
        # internal packages' macros, in dbt's search order (MacroNamespace.__getitem__)
        macro_keys, macro_positions = [], []
        self.package_keys: list[tuple[str, str]] = []
        self.global_project_keys: list[str] = []
        for key in template:
            value = template[key]
            if value is template.global_project_namespace:
                self.global_project_keys.append(key)
            elif id(value) in package_names:
                self.package_keys.append((key, package_names[id(value)]))
            else:
                macro_keys.append(key)
                macro_positions.append(position[id(value.macro)])
        self.flat_macros = tuple(macro_keys), _picker(macro_positions)


def _picker(positions: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving the items of a sequence at ``positions``, as a tuple."""
    if not positions:
        return lambda _sequence: ()
    if len(positions) == 1:
        only = positions[0]
        return lambda sequence: (sequence[only],)
    return operator.itemgetter(*positions)


def build_macro_namespaces_quickly() -> bool:
    """Build each node's macro namespace from a plan made once, and flatten it in one step.

    dbt builds, for every context of every node (about three a node), a namespace holding a
    callable wrapper (``MacroGenerator``) of each of the project's ~620 macros: the wrappers are
    created through three constructors, filed by package, then flattened key by key into the
    context. That cost 1.2 ms a context, about 1.2 s of the demo's first build. The namespace
    depends only on the macros, the node's package and the adapter's packages: here dbt's own
    builder places them once (``_NamespacePlan``), and each context then gets new wrappers, bound
    to it exactly as dbt binds them, in the same places, sharing the same objects. Whatever the
    plan does not cover (another builder, macros that changed, a namespace dbt builds another
    way) goes through dbt's code. Returns whether installed."""
    try:
        from dbt.clients.jinja import MacroGenerator
        from dbt.context.macros import MacroNamespace, MacroNamespaceBuilder
        from dbt.context.manifest import ManifestContext
    except ImportError:
        return False
    build, flatten = MacroNamespaceBuilder.build_namespace, ManifestContext.to_dict
    if getattr(build, "_owh_quick", False):
        return True
    probe = MacroGenerator("macro", {}, "node", "stack")  # type: ignore[arg-type]
    builder_fields = (
        "root_package",
        "search_package",
        "thread_ctx",
        "node",
        "internal_package_names_order",
        "internal_packages",
    )
    if vars(probe) != {"context": {}, "macro": "macro", "node": "node", "stack": "stack"} or any(
        name not in vars(MacroNamespaceBuilder("root", "root", None, [], None))  # type: ignore[arg-type]
        for name in builder_fields
    ):
        return False
    plans: dict[tuple[Any, ...], _NamespacePlan] = {}
    new = object.__new__

    def quick_build(self: Any, macros_by_package: Any, ctx: Any) -> Any:
        if type(self) is not MacroNamespaceBuilder or any(
            (self.globals, self.locals, self.packages, self.internal_packages)
        ):
            return build(self, macros_by_package, ctx)
        order = tuple(self.internal_package_names_order)
        key = (id(macros_by_package), self.root_package, self.search_package, order)
        macros = [macro for package in macros_by_package.values() for macro in package.values()]
        plan = plans.get(key)
        if plan is None or plan.source is not macros_by_package or plan.macros != macros:
            fresh = MacroNamespaceBuilder(
                self.root_package, self.search_package, self.thread_ctx, list(order), self.node
            )
            plan = _NamespacePlan(macros_by_package, macros, build(fresh, macros_by_package, None))
            plans[key] = plan
        node, stack = self.node, self.thread_ctx
        funcs = []
        append = funcs.append
        for macro in macros:  # dbt's three constructors set these four attributes and no other
            func = new(MacroGenerator)
            func.context = ctx
            func.macro = macro
            func.node = node
            func.stack = stack
            append(func)

        def part(place: tuple[tuple[str, ...], Callable[[Any], Any]]) -> dict[str, Any]:
            names, pick = place
            return dict(zip(names, pick(funcs), strict=True))

        namespace = MacroNamespace(
            global_namespace=part(plan.globals),
            local_namespace=part(plan.locals),
            global_project_namespace=part(plan.global_project),
            packages={package: part(place) for package, place in plan.packages},
        )
        namespace._owh_flat = (plan, funcs)  # type: ignore[attr-defined]
        return namespace

    def quick_flatten(self: Any) -> Any:
        namespace = self.namespace
        quick = getattr(namespace, "_owh_flat", None)
        if quick is None or type(namespace) is not MacroNamespace:
            return flatten(self)
        plan, funcs = quick
        dct = super(ManifestContext, self).to_dict()
        names, pick = plan.flat_macros
        dct.update(zip(names, pick(funcs), strict=True))
        for key, package in plan.package_keys:
            dct[key] = namespace.packages[package]
        for key in plan.global_project_keys:
            dct[key] = namespace.global_project_namespace
        return dct

    quick_build._owh_quick = True  # type: ignore[attr-defined]
    MacroNamespaceBuilder.build_namespace = quick_build  # type: ignore[method-assign]
    ManifestContext.to_dict = quick_flatten  # type: ignore[method-assign]
    return True


def build_events_lazily() -> bool:
    """Make each dbt event's protobuf message when it is first used, not when it is made.

    dbt makes an event object for every statement, connection and macro log, and its constructor
    turns the event's fields into a protobuf message (``ParseDict``) at once: about 9,000 events
    in the demo's first build, about 1 s, of which the ~8,300 that ``skip_unlogged_events``
    never fires use none. Here the constructor keeps the same fields (after the same checks and
    conversions) and the message is made by the first read or write of any of its fields, as a
    fired event's always is: the same message, from the same fields. One thing moves: a field
    that protobuf rejects is reported (a warning, or an error under pytest) at that first use
    instead of at construction; an event nobody uses reports nothing. Returns whether installed
    (False when dbt's ``BaseEvent`` is not as written against)."""
    try:
        from dbt_common.events import base_types
    except ImportError:
        return False
    base_event = base_types.BaseEvent
    if getattr(base_event.__init__, "_owh_lazy", False):
        return True
    if not all(name in vars(base_event) for name in ("__init__", "__getattr__", "__setattr__")):
        return False
    if not hasattr(base_types, "ParseDict"):
        return False
    pending_key = "_owh_fields"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        class_name = type(self).__name__
        msg_cls = getattr(self.PROTO_TYPES_MODULE, class_name)
        if class_name == "Formatting" and len(args) > 0:
            kwargs["msg"] = args[0]
            args = ()
        assert len(args) == 0, (
            f"[{class_name}] Don't use positional arguments when constructing logging events"
        )
        if "base_msg" in kwargs:
            kwargs["base_msg"] = str(kwargs["base_msg"])
        if "msg" in kwargs:
            kwargs["msg"] = str(kwargs["msg"])
        self.__dict__[pending_key] = (msg_cls, kwargs)

    def message_of(self: Any) -> Any:
        """The event's message, made now from its kept fields as dbt's constructor makes it."""
        fields = self.__dict__.pop(pending_key, None)
        if fields is None:
            # made already (or, for an object never initialised, AttributeError as in dbt)
            return object.__getattribute__(self, "pb_msg")
        msg_cls, kwargs = fields
        try:
            message = base_types.ParseDict(kwargs, msg_cls())
        except Exception as exc:
            from dbt_common.events.functions import fire_event
            from dbt_common.events.types import Note

            class_name = type(self).__name__
            error_msg = (
                f"[{class_name}]: Unable to parse logging event dictionary. {exc}. "
                f"Dictionary: {kwargs}"
            )
            if os.getenv("PYTEST_CURRENT_TEST"):
                raise Exception(error_msg) from exc
            fire_event(Note(msg=error_msg), level=base_types.EventLevel.WARN)
            message = msg_cls()
        self.__dict__["pb_msg"] = message
        return message

    def __getattr__(self: Any, key: str) -> Any:
        message = message_of(self)  # any field, or pb_msg while it is not made yet
        return message if key == "pb_msg" else message.__getattribute__(key)

    def __setattr__(self: Any, key: str, value: Any) -> None:
        if key == "pb_msg":
            self.__dict__.pop(pending_key, None)
            self.__dict__["pb_msg"] = value
        else:
            message = self.__dict__.get("pb_msg")
            (message if message is not None else message_of(self)).__setattr__(key, value)

    __init__._owh_lazy = True  # type: ignore[attr-defined]
    base_event.__init__ = __init__  # type: ignore[method-assign]
    base_event.__getattr__ = __getattr__  # type: ignore[method-assign]
    base_event.__setattr__ = __setattr__  # type: ignore[method-assign,assignment]
    return True
