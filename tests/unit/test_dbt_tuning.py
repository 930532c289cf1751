"""What the preloaded dbt process does before it forks (pipelines.lib.dbt_tuning).

Each check runs in a new interpreter: the shortcuts change dbt's classes for the whole process,
as they do in the preloaded process, and must not reach the other tests.

Events are fired through dbt's own event manager and loggers, twice: as dbt does, then with
``skip_unlogged_events`` installed. Every line written must be the same, byte for byte (clocks
frozen); what changes is only how many events are built and rendered.
"""

from __future__ import annotations

import functools
import json
import textwrap
from pathlib import Path

import pytest

from pipelines.lib.dbt_project import DBT_PROJECT_DIR, DBT_TARGET_PATH, PARTIAL_PARSE_FILE
from tests.processes import run_python

FIRE_EVENTS = textwrap.dedent(
    """
    import datetime as dt
    import io
    import json
    import os
    import sys

    import dbt_common.events.base_types as base_types
    import dbt_common.events.event_manager as event_manager
    import dbt_common.events.logger as logger
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.functions import env_scrubber
    from dbt_common.events.logger import LineFormat, LoggerConfig
    from dbt_common.events.types import Formatting, Note, PrintEvent, RetryExternalCall

    from pipelines.lib import dbt_tuning

    # frozen clocks: the JSON lines carry the event's time, the text lines the time of writing
    base_types.get_json_string_utcnow = lambda: "2026-12-06T17:00:00.000000Z"

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 12, 6, 17, 0, 0, tzinfo=tz)

    logger.datetime = FrozenDatetime
    built = []
    build_message = event_manager.msg_from_base_event

    def counting_build(event, level=None):
        built.append(type(event).__name__)
        return build_message(event, level=level)

    event_manager.msg_from_base_event = counting_build
    rendered = []
    for logger_class in (logger._JsonLogger, logger._TextLogger):
        def counting_render(self, msg, _render=logger_class.create_line):
            rendered.append(msg.info.name)
            return _render(self, msg)
        logger_class.create_line = counting_render

    os.environ["DBT_ENV_SECRET_TOKEN"] = "s3cr3t-value"
    EVENTS = [
        (Note(msg="started, token s3cr3t-value"), None),
        (RetryExternalCall(attempt=1, max=3), None),
        (Formatting(msg=""), None),
        (RetryExternalCall(attempt=2, max=3), EventLevel.INFO),
        (Note(msg="a note at debug"), EventLevel.DEBUG),
        (PrintEvent(msg="printed"), None),
        (Note(msg="a warning"), EventLevel.WARN),
    ]

    def fire(stdout_level, file_level, callbacks):
        stdout, log_file = io.StringIO(), io.StringIO()
        manager = event_manager.EventManager()
        manager.callbacks = list(callbacks)
        for name, line_format, level, stream in (
            ("stdout_log", LineFormat.Json, stdout_level, stdout),
            ("file_log", LineFormat.PlainText, file_level, log_file),
        ):
            manager.add_logger(
                LoggerConfig(
                    name=name,
                    line_format=line_format,
                    level=level,
                    scrubber=env_scrubber,
                    output_stream=stream,
                )
            )
        built.clear()
        rendered.clear()
        for event, level in EVENTS:
            manager.fire_event(event, level=level)
        return {
            "stdout": stdout.getvalue(),
            "file": log_file.getvalue(),
            "built": len(built),
            "rendered": len(rendered),
        }

    heard = []
    CASES = {
        "info": (EventLevel.INFO, EventLevel.INFO, [track_behavior_change_warn]),
        "file_at_debug": (EventLevel.INFO, EventLevel.DEBUG, [track_behavior_change_warn]),
        "quiet": (EventLevel.ERROR, EventLevel.INFO, [track_behavior_change_warn]),
        "callback": (EventLevel.INFO, EventLevel.INFO, [heard.append]),
    }
    before = {case: fire(*arguments) for case, arguments in CASES.items()}
    heard_before = len(heard)
    installed = dbt_tuning.skip_unlogged_events()
    again = dbt_tuning.skip_unlogged_events()
    heard.clear()
    after = {case: fire(*arguments) for case, arguments in CASES.items()}
    print(json.dumps({
        "installed": installed,
        "again": again,
        "before": before,
        "after": after,
        "heard": [heard_before, len(heard)],
    }))
    """
)


@functools.cache
def fired_events() -> dict:
    """FIRE_EVENTS's result, run once for the tests that read it."""
    return run_python(FIRE_EVENTS)


def test_skipping_unlogged_events_writes_every_line_as_dbt_does() -> None:
    result = fired_events()
    assert result["installed"] is True
    assert result["again"] is True  # installing twice keeps one layer of shortcuts
    before, after = result["before"], result["after"]
    for case in before:
        assert after[case]["stdout"] == before[case]["stdout"], case
        assert after[case]["file"] == before[case]["file"], case

    # what dbt writes at info: the info lines, the warning, the printed line; the secret scrubbed
    stdout_lines = [json.loads(line) for line in before["info"]["stdout"].splitlines()]
    assert [(line["info"]["name"], line["info"]["msg"]) for line in stdout_lines] == [
        ("Note", "started, token *****"),
        ("Formatting", ""),
        ("RetryExternalCall", "Retrying external call. Attempt: 2 Max attempts: 3"),
        ("PrintEvent", "printed"),
        ("Note", "a warning"),
    ]
    assert before["info"]["file"] == (
        "17:00:00  started, token *****\n"
        "17:00:00  \n"
        "17:00:00  Retrying external call. Attempt: 2 Max attempts: 3\n"
        "printed\n"
        "17:00:00  a warning\n"
    )
    # --quiet: only the printed line (and nothing below error) reaches standard output
    quiet = [json.loads(line)["info"]["msg"] for line in before["quiet"]["stdout"].splitlines()]
    assert quiet == ["printed"]


def test_skipping_unlogged_events_builds_and_renders_only_what_is_used() -> None:
    result = fired_events()
    before, after = result["before"], result["after"]
    # dbt builds all 7 events and renders each for both loggers
    assert [before["info"]["built"], before["info"]["rendered"]] == [7, 14]
    # the two debug events are not built; each logger renders only the 5 lines it writes
    assert [after["info"]["built"], after["info"]["rendered"]] == [5, 10]
    # a log file at debug wants them all: all built; the stdout logger renders its 5 lines only
    assert [after["file_at_debug"]["built"], after["file_at_debug"]["rendered"]] == [7, 12]
    # --quiet: the stdout logger renders only the printed line
    assert [after["quiet"]["built"], after["quiet"]["rendered"]] == [5, 6]
    # a callback of its own (as dbtRunner's) hears every event, before and after
    assert after["callback"]["built"] == 7
    assert result["heard"] == [7, 7]


WARM_UP = textwrap.dedent(
    """
    import json
    import os
    import sys
    from pathlib import Path

    import dbt.cli.main
    import mashumaro.core.meta.code.builder as builder
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder
    from dbt_common.dataclass_schema import dbtClassMixin

    from pipelines.lib import dbt_tuning

    kept_parse = Path(sys.argv[1]) if sys.argv[1] != "-" else None
    dbt_tuning.warm_up(kept_parse)
    schemas = dbtClassMixin.__dict__["json_schema"].__func__.cache_info().currsize
    threads = len(os.listdir("/proc/self/task"))
    pandas = "pandas" in sys.modules
    generated = []
    for method in ("add_unpack_method", "add_pack_method"):
        def counting(self, *args, _generate=getattr(builder.CodeBuilder, method), **kwargs):
            generated.append(method)
            return _generate(self, *args, **kwargs)
        setattr(builder.CodeBuilder, method, counting)
    manifest_file = Path(sys.argv[2])
    manifest = Manifest.from_msgpack(
        manifest_file.read_bytes(), decoder=extended_mashumuro_decoder
    )
    manifest.build_flat_graph()
    print(json.dumps({
        "schemas": schemas, "threads": threads, "pandas": pandas, "generated": len(generated)
    }))
    """
)


def kept_parse() -> Path:
    from pipelines.lib.dbt_project import ensure_manifest

    ensure_manifest()
    return DBT_PROJECT_DIR / DBT_TARGET_PATH / PARTIAL_PARSE_FILE


def test_warm_up_generates_what_reading_the_project_needs_and_starts_no_thread() -> None:
    parse = str(kept_parse())
    warm = run_python(WARM_UP, parse, parse)
    # the six project-file schemas are built, pandas is imported (numpy's and pyarrow's thread
    # pools kept from starting: one thread), and reading the kept parse again generates no code
    assert warm == {"schemas": 6, "threads": 1, "pandas": True, "generated": 0}
    # without the warm-up (no kept parse given) that read generates the code, so the count above
    # is not vacuous
    cold = run_python(WARM_UP, "-", parse)
    assert cold["generated"] > 100
    assert cold["schemas"] == 6


def test_warm_up_ignores_a_kept_parse_it_cannot_read(tmp_path: Path) -> None:
    broken = tmp_path / PARTIAL_PARSE_FILE
    broken.write_bytes(b"\x93 not a manifest")
    source = (
        "from pathlib import Path; import sys; import dbt.cli.main\n"
        "from pipelines.lib import dbt_tuning\n"
        "dbt_tuning.warm_up(Path(sys.argv[1])); dbt_tuning.warm_up(Path(sys.argv[2]))\n"
        "print('{\"done\": true}')\n"
    )
    assert run_python(source, str(broken), str(tmp_path / "missing.msgpack")) == {"done": True}


KEEP_PARSE = textwrap.dedent(
    """
    import gc
    import json
    import sys
    from pathlib import Path

    import dbt.cli.main
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    from pipelines.lib import dbt_tuning

    payload = Path(sys.argv[1]).read_bytes()
    # every deserialisation that really happens, counted under dbt's own reader (generated and
    # installed on the class by the first read, as the warm-up does in the preloaded process)
    Manifest.from_msgpack(payload, decoder=extended_mashumuro_decoder)
    reads = []
    read = Manifest.__dict__["from_msgpack"].__func__

    def counting(cls, data, *args, **kwargs):
        reads.append(len(data))
        return read(cls, data, *args, **kwargs)

    Manifest.from_msgpack = classmethod(counting)
    kept = dbt_tuning.keep_parse(Path(sys.argv[1]))
    after_keep = len(reads)

    def read_as_dbt_does(data):
        return Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)

    first = read_as_dbt_does(payload)  # the kept manifest: nothing read
    after_first = len(reads)
    second = read_as_dbt_does(payload)  # handed out once only: read again
    after_second = len(reads)
    # the same bytes, in another object (as dbt reads its file): still compared by value
    third = read_as_dbt_does(bytes(bytearray(payload)))
    after_third = len(reads)
    # a changed file is not mistaken for the kept one: dbt's reader runs on it (and fails)
    try:
        read_as_dbt_does(Path(sys.argv[2]).read_bytes())
        changed = "read"
    except Exception as error:
        changed = type(error).__name__
    missing = dbt_tuning.keep_parse(Path(sys.argv[3]))
    dbt_tuning.freeze_heap()
    tracked = {id(each) for each in gc.get_objects()}
    print(json.dumps({
        "changed": changed,
        "missing": missing,
        "kept": kept,
        "reads": [after_keep, after_first, after_second, after_third],
        "first_is_second": first is second,
        "same_nodes": sorted(first.nodes) == sorted(second.nodes) == sorted(third.nodes),
        "same_macros": sorted(first.macros) == sorted(second.macros),
        "nodes": len(first.nodes),
        "frozen": gc.get_freeze_count() > 0 and id(first) not in tracked,
    }))
    """
)


@functools.cache
def kept_parse_reads(folder: Path) -> dict:
    """KEEP_PARSE's result, run once: the kept parse, a changed copy and a missing file."""
    changed = folder / "changed.msgpack"
    changed.write_bytes(kept_parse().read_bytes()[:-10])
    return run_python(KEEP_PARSE, str(kept_parse()), str(changed), str(folder / "none.msgpack"))


def test_keep_parse_hands_the_kept_manifest_to_the_first_read_of_the_same_bytes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    result = kept_parse_reads(tmp_path_factory.getbasetemp())
    assert result["kept"] is True
    # read once when kept; the first read of the same bytes takes it (no read), every later one
    # deserialises as dbt always does
    assert result["reads"] == [1, 1, 2, 3]
    assert result["first_is_second"] is False
    assert result["same_nodes"] is True
    assert result["same_macros"] is True
    assert result["nodes"] > 300
    # after freeze_heap the collector no longer tracks the kept objects: a forked command's
    # collections never traverse them
    assert result["frozen"] is True


def test_keep_parse_reads_other_bytes_as_dbt_does(tmp_path_factory: pytest.TempPathFactory) -> None:
    result = kept_parse_reads(tmp_path_factory.getbasetemp())
    # a changed file is not mistaken for the kept one: dbt's reader runs, and fails on it
    assert result["changed"] != "read"
    assert result["missing"] is False


BEHAVIOR_SOURCES = textwrap.dedent(
    """
    import inspect
    import json
    import sys

    sys.path.insert(0, sys.argv[1])
    import adapter_like

    from pipelines.lib import dbt_tuning

    before = adapter_like.sources()
    installed = dbt_tuning.name_behavior_sources_cheaply()

    def no_source_lines(*args, **kwargs):
        raise AssertionError("source lines read")

    inspect.findsource = no_source_lines
    after = adapter_like.sources()
    print(json.dumps({"installed": installed, "before": before, "after": after}))
    """
)


def test_behavior_flag_sources_are_named_as_dbt_names_them_without_reading_source_lines(
    tmp_path: Path,
) -> None:
    (tmp_path / "adapter_like.py").write_text(
        textwrap.dedent(
            """
            from dbt_common.behavior_flags import Behavior

            FLAGS = [
                {"name": "declared_here", "default": False, "description": "without a source"},
                {"name": "sourced", "default": True, "description": "d", "source": "elsewhere"},
            ]

            def sources():
                behavior = Behavior(FLAGS, {})
                return [flag._behavior_change_event.flag_source for flag in behavior._flags]
            """
        )
    )
    result = run_python(BEHAVIOR_SOURCES, str(tmp_path))
    assert result == {
        "installed": True,
        "before": ["adapter_like", "elsewhere"],
        "after": ["adapter_like", "elsewhere"],
    }


NAMESPACES = textwrap.dedent(
    """
    import dataclasses
    import json
    import sys

    import dbt.cli.main
    from dbt.clients.jinja import MacroStack
    from dbt.context.base import BaseContext
    from dbt.context.macros import MacroNamespaceBuilder
    from dbt.context.manifest import ManifestContext
    from dbt.contracts.graph.manifest import Manifest
    from dbt.exceptions import DuplicateMacroNameError
    from dbt.parser.manifest import extended_mashumuro_decoder

    from pipelines.lib import dbt_tuning

    manifest = Manifest.from_msgpack(
        open(sys.argv[1], "rb").read(), decoder=extended_mashumuro_decoder
    )
    macros_by_package = manifest.get_macros_by_package()
    ADAPTER_PACKAGES = ["dbt_duckdb", "dbt_postgres", "dbt"]
    # the context's own entries, the same both ways: only the namespace's flattening is compared
    BaseContext.to_dict = lambda self: dict(self._ctx)

    def described(search_package):
        \"\"\"Every part of a namespace built for a node of ``search_package``, and its flattened
        context, with each wrapper's macro, binding (context, node, stack) and identity (which
        wrappers are the same object).\"\"\"
        ctx, node, stack = {"own": "entry"}, object(), MacroStack()
        builder = MacroNamespaceBuilder(
            "outcome_warehouse", search_package, stack, list(ADAPTER_PACKAGES), node
        )
        namespace = builder.build_namespace(macros_by_package, ctx)
        identities = {}

        def wrapper(func):
            assert func.context is ctx and func.node is node and func.stack is stack
            assert type(func).__name__ == "MacroGenerator" and len(vars(func)) == 4
            return [func.macro.unique_id, identities.setdefault(id(func), len(identities))]

        def part(funcs):
            return [[name, *wrapper(func)] for name, func in funcs.items()]

        context = object.__new__(ManifestContext)
        context._ctx, context.namespace = ctx, namespace
        flat = {}
        for key, value in context.to_dict().items():
            if isinstance(value, dict):
                flat[key] = ["macros of", sorted(value) == sorted(
                    namespace.packages.get(key, namespace.global_project_namespace)
                ), len(value)]
            elif key == "own":
                flat[key] = value
            else:
                flat[key] = wrapper(value)
        return {
            "locals": part(namespace.local_namespace),
            "globals": part(namespace.global_namespace),
            "global_project": part(namespace.global_project_namespace),
            "packages": {name: part(funcs) for name, funcs in namespace.packages.items()},
            "flat": flat,
        }

    packages = ["outcome_warehouse", "dbt", "dbt_duckdb", "a_package_without_macros"]
    before = {package: described(package) for package in packages}
    installed = dbt_tuning.build_macro_namespaces_quickly()
    after = {package: described(package) for package in packages}
    twice = {package: described(package) for package in packages}
    # the plans: made once per package of node and adapter packages, never for other macros
    plans = []
    plan_class = dbt_tuning._NamespacePlan
    dbt_tuning._NamespacePlan = lambda *args: plans.append(1) or plan_class(*args)

    def build(macros, search="outcome_warehouse"):
        builder = MacroNamespaceBuilder(
            "outcome_warehouse", search, MacroStack(), ["dbt_duckdb", "dbt"], None
        )
        return builder.build_namespace(macros, {})

    build(macros_by_package)
    build(macros_by_package)
    build(macros_by_package, search="dbt")
    after_three = len(plans)
    # a macro of the project replaced: the plan made for the old macros is not used
    project = dict(macros_by_package["outcome_warehouse"])
    name, macro = next(iter(project.items()))
    project[name] = dataclasses.replace(macro)
    changed = {**macros_by_package, "outcome_warehouse": project}
    namespace = build(changed)
    uses_new = namespace.local_namespace[name].macro is project[name]
    # a builder that already holds a macro is left to dbt, whose error names the duplicate
    builder = MacroNamespaceBuilder("outcome_warehouse", "outcome_warehouse", MacroStack(),
                                    ["dbt_duckdb", "dbt"], None)
    builder.add_macro(macro, {})
    try:
        builder.build_namespace(macros_by_package, {})
        duplicate = "none"
    except DuplicateMacroNameError:
        duplicate = "DuplicateMacroNameError"
    sizes = {
        "flat": len(after["outcome_warehouse"]["flat"]),
        "packages": sorted(after["outcome_warehouse"]["packages"]),
        "locals": len(after["outcome_warehouse"]["locals"]),
    }
    print(json.dumps({
        "installed": installed,
        "same": before == after == twice,
        "sizes": sizes,
        "plans": [after_three, len(plans)],
        "uses_new": uses_new,
        "duplicate": duplicate,
    }))
    """
)


@functools.cache
def namespaces() -> dict:
    """NAMESPACES's result, run once for the tests that read it."""
    return run_python(NAMESPACES, str(kept_parse()))


def test_macro_namespaces_from_a_plan_are_the_namespaces_dbt_builds() -> None:
    result = namespaces()
    assert result["installed"] is True
    # for a node of the project, of dbt, of the adapter and of a package with no macros: the
    # same macros in the same places and the same order, bound to the same context, node and
    # stack, the same wrapper object wherever dbt shares one, and the same flattened context
    assert result["same"] is True
    assert result["sizes"]["packages"] == ["outcome_warehouse"]
    assert result["sizes"]["locals"] > 100
    assert result["sizes"]["flat"] > 600


def test_macro_namespace_plans_are_made_once_and_never_used_for_other_macros() -> None:
    result = namespaces()
    # one plan per package of node, reused; another one when a macro changed
    assert result["plans"] == [2, 3]
    assert result["uses_new"] is True
    assert result["duplicate"] == "DuplicateMacroNameError"


LAZY_EVENTS = textwrap.dedent(
    """
    import json
    import os

    import dbt_common.events.base_types as base_types
    from dbt.adapters.events.types import SQLQuery
    from dbt_common.events.types import Formatting, Note, RetryExternalCall

    from pipelines.lib import dbt_tuning

    os.environ["PYTEST_CURRENT_TEST"] = "lazy events"  # dbt raises on a field protobuf rejects
    parsed = []
    parse = base_types.ParseDict
    base_types.ParseDict = lambda fields, message: parsed.append(1) or parse(fields, message)

    def make():
        return [
            Note(msg="a note"),
            Formatting(""),
            RetryExternalCall(attempt=2, max=3),
            SQLQuery(conn_name="model.x", sql="select 1", node_info={"node_name": "x"}),
        ]

    def used(events):
        return [
            [event.message(), event.to_json(), event.pb_msg.SerializeToString().hex()]
            for event in events
        ]

    def rejected():
        try:
            event = Note(msg="x", not_a_field=1)
            event.message()
        except Exception as error:
            return str(error)
        return "accepted"

    eager = make()
    eager_parsed = len(parsed)
    eager_used = used(eager)
    eager_rejected = rejected()
    installed = dbt_tuning.build_events_lazily()
    parsed.clear()
    lazy = make()
    made = len(parsed)
    lazy_used = used(lazy)
    after_use = len(parsed)
    lazy[0].msg = "changed before use"
    fresh = Note(msg="original")
    fresh.msg = "changed before use"
    lazy_rejected = rejected()
    print(json.dumps({
        "installed": installed,
        "parsed": [eager_parsed, made, after_use],
        "same": eager_used == lazy_used,
        "set": [lazy[0].message(), fresh.message()],
        "rejected": [eager_rejected, lazy_rejected],
    }))
    """
)


def test_lazy_events_make_the_same_message_only_when_used() -> None:
    result = run_python(LAZY_EVENTS)
    assert result["installed"] is True
    # dbt parses each event's fields when it is made; lazily, only at the first use
    assert result["parsed"] == [4, 0, 4]
    assert result["same"] is True
    assert result["set"] == ["changed before use", "changed before use"]
    # a field protobuf rejects is reported with dbt's own message, at the first use
    eager, lazy = result["rejected"]
    assert eager.startswith("[Note]: Unable to parse logging event dictionary.")
    assert lazy == eager


TEMPLATES_AHEAD = textwrap.dedent(
    """
    import json
    from types import SimpleNamespace

    import dbt.cli.main
    import jinja2
    from dbt.clients.jinja import get_rendered
    from dbt_common.clients import jinja as common_jinja
    from dbt_common.exceptions import CompilationError

    from pipelines.lib import dbt_tuning

    compiled = []
    compile_source = jinja2.Environment.compile

    def counting_compile(self, source, *args, **kwargs):
        compiled.append(source)
        return compile_source(self, source, *args, **kwargs)

    jinja2.Environment.compile = counting_compile

    def make_macro(name, sql, calls=()):
        return SimpleNamespace(
            name=name,
            unique_id=f"macro.shop.{name}",
            package_name="shop",
            macro_sql=sql,
            depends_on=SimpleNamespace(macros=list(calls)),
        )

    # greet dispatches to an implementation, as dbt's adapter.dispatch does
    macro = make_macro(
        "greet",
        "{% macro greet(who) %}{{ default__greet(who) }}{% endmacro %}",
        calls=["macro.shop.dispatch"],
    )
    implementation = make_macro(
        "default__greet", "{% macro default__greet(who) %}hello {{ who }}{% endmacro %}"
    )
    uncalled = make_macro("uncalled", "{% macro uncalled() %}never{% endmacro %}")
    model = SimpleNamespace(
        raw_code="select {{ 1 + 1 }} as two from {{ ref('orders') }}",
        depends_on=SimpleNamespace(macros=["macro.shop.greet"]),
    )
    plain = SimpleNamespace(raw_code="select 1 as one")
    broken = SimpleNamespace(raw_code="select {{ unclosed")
    test = SimpleNamespace(
        raw_code="{{ test_accepted(**_dbt_generic_test_kwargs) }}",
        test_metadata=SimpleNamespace(
            kwargs={
                "column_name": "{{ never_rendered }}",
                "model": "ref('orders')",
                "values": ["a", "{{ var('v') }}"],
                "where": "amount > 1",
            }
        ),
    )
    manifest = SimpleNamespace(
        metadata=SimpleNamespace(adapter_type="duckdb"),
        macros={each.unique_id: each for each in (macro, implementation, uncalled)},
        nodes={"model.shop.m": model, "model.shop.p": plain, "model.shop.b": broken,
               "test.shop.t": test},
    )
    context = {
        "ref": lambda name: f"main.{name}",
        "var": lambda name: name.upper(),
        "test_accepted": lambda **kwargs: "select 0",
        "_dbt_generic_test_kwargs": {},
    }

    def render_all():
        def callable_macro(each, **others):
            template = common_jinja.template_cache.get_node_template(each)
            module = template.make_module(vars=others)
            return getattr(module, common_jinja.get_dbt_macro_name(each.name))

        greet = callable_macro(macro, default__greet=callable_macro(implementation))
        rendered = [
            str(greet("you")),
            get_rendered(model.raw_code, context),
            get_rendered(plain.raw_code, context),
            get_rendered(test.raw_code, context),
            get_rendered("{{ ref('orders') }}", context, native=True),
            get_rendered("{{ var('v') }}", context, native=True),
        ]
        try:
            get_rendered(broken.raw_code, context)
        except CompilationError as error:
            rendered.append(str(error))
        return rendered

    before = render_all()
    compiled_before = len(compiled)
    common_jinja.template_cache.clear()  # as in a new command
    count = sum(dbt_tuning.templates_ahead(manifest))
    compiled_ahead = len(compiled) - compiled_before
    after = render_all()
    compiled_after = len(compiled) - compiled_before - compiled_ahead
    other = get_rendered("{{ 2 + 2 }}", context)
    print(json.dumps({
        "count": count,
        "compiled": [compiled_before, compiled_ahead, compiled_after],
        "compiled_later": compiled[compiled_before + compiled_ahead + compiled_after:],
        "before": before,
        "same": before == after,
        "other": other,
    }))
    """
)


def test_templates_compiled_ahead_render_as_dbt_renders_them_without_compiling() -> None:
    result = run_python(TEMPLATES_AHEAD)
    # the model's code and the test's code (text), the test's two arguments that render
    # (native: a reference wrapped as dbt wraps it, and a variable), the macro the model calls
    # and its default implementation; not the plain model, the column name, the argument
    # without Jinja, the macro nothing calls, or the model that does not compile
    assert result["count"] == 6
    # dbt compiles seven templates to render them; ahead, the six and the broken one (which
    # fails); afterwards, only the broken one again, whose error dbt reports as before
    assert result["compiled"] == [7, 7, 1]
    assert result["before"][:6] == [
        "hello you",
        "select 2 as two from main.orders",
        "select 1 as one",
        "select 0",
        "main.orders",
        "V",
    ]
    assert "unexpected end of template" in result["before"][6]
    assert result["same"] is True
    # a source not compiled ahead is compiled as dbt compiles it
    assert result["compiled_later"] == ["{{ 2 + 2 }}"]
    assert result["other"] == "4"


INJECT_CTES = textwrap.dedent(
    """
    import json
    import sys

    import sqlparse
    from dbt import compilation
    from dbt.contracts.graph.nodes import InjectedCTE

    from pipelines.lib import dbt_tuning

    with open(sys.argv[1]) as given:
        sqls = json.load(given)
    ctes = [
        InjectedCTE(id="model.a", sql="__dbt__cte__a as (select 1 as x)"),
        InjectedCTE(id="model.b", sql="__dbt__cte__b as (select 2 as y)"),
    ]

    # for each SQL, what injecting two CTEs, one and none gives (or the error raised)
    def inject_all():
        results = []
        for sql in sqls:
            injected = []
            for given in (ctes, ctes[:1], []):
                try:
                    injected.append(compilation.inject_ctes_into_sql(sql, given))
                except Exception as exc:
                    injected.append(f"{type(exc).__name__}: {exc}")
            results.append(injected)
        return results

    before = inject_all()
    installed = dbt_tuning.inject_ctes_cheaply()
    parsed = []
    parse = sqlparse.parse

    def counted_parse(sql, *args, **kwargs):
        parsed.append(sql)
        return parse(sql, *args, **kwargs)

    compilation.sqlparse.parse = counted_parse
    after = inject_all()
    print(json.dumps({
        "installed": installed,
        "differing": [sql for sql, was, now in zip(sqls, before, after) if was != now],
        "parsed": sorted(set(parsed)),
    }))
    """
)

MODELS_OF_EACH_KIND = 6
# SQL that dbt's own function must handle: more than one statement, no leading ``with``, ``with
# recursive``, a name that only looks like the keyword
HANDED_TO_DBT = [
    "with x as (select 1) select 1; select 2",
    "with x as (select 1) select 1 GO",
    "with recursive x as (select 1) select 1",
    "select 1",
    "(with x as (select 1) select 1)",
    "with.x",
]


def test_injected_ctes_go_where_dbt_puts_them_without_parsing_a_one_statement_with(
    tmp_path: Path,
) -> None:
    manifest = json.loads((DBT_PROJECT_DIR / DBT_TARGET_PATH / "manifest.json").read_text())
    # models' SQL as written: header comments, some with semicolons, and Jinja (dbt's parse of a
    # model takes about 60 ms, so a sample of each kind)
    models = sorted(
        (
            node["raw_code"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
        ),
        key=lambda sql: (";" not in sql, sql),
    )
    models = models[:MODELS_OF_EACH_KIND] + models[-MODELS_OF_EACH_KIND:]
    assert sum(";" in sql for sql in models) == MODELS_OF_EACH_KIND
    # a model whose first line past its header comments starts with `with` takes the shortcut;
    # one with Jinja there (a config block) goes to dbt's function
    starting_with_with = [sql for sql in models if first_code_line(sql).lower().startswith("with")]
    assert 0 < len(starting_with_with) < len(models)
    cheap = [
        "with x as (select 1) select * from x",
        "  -- a; comment\n/* and; another */\nWITH x as (select 1) select 1",
        "with /* c */ x as (select 1) select 1",
        "with -- c\n x as (select 1) select 'a;b', 'GO' from x",
        "with",
        "with  ",
    ]
    sqls = tmp_path / "sqls.json"
    sqls.write_text(json.dumps(models + cheap + HANDED_TO_DBT + ["", "  "]))
    result = run_python(INJECT_CTES, str(sqls))
    assert result["installed"] is True
    assert result["differing"] == []
    parsed = set(result["parsed"])
    assert parsed.isdisjoint(cheap + starting_with_with)
    assert parsed >= set(HANDED_TO_DBT) | (set(models) - set(starting_with_with))


def first_code_line(sql: str) -> str:
    """The first line of ``sql`` that is neither blank nor a ``--`` comment, stripped."""
    lines = (line.strip() for line in sql.splitlines())
    return next(line for line in lines if line and not line.startswith("--"))


TYPE_TESTERS = textwrap.dedent(
    """
    import datetime as dt
    import decimal
    import json
    import sys
    import threading

    import agate
    from dbt_common.clients import agate_helper

    from pipelines.lib import dbt_tuning

    if sys.argv[1] == "other-helper":  # a dbt whose helper takes other arguments
        agate_helper.build_type_tester = lambda columns: None
        print(json.dumps({"installed": dbt_tuning.reuse_type_testers()}))
        raise SystemExit

    # what statements return: numbers, decimals, text (some of it "null" or empty), JSON
    # containers, dates, timestamps, booleans and nulls, and a text column of numbers
    ROWS = [
        {"n": 1, "x": 1.5, "d": decimal.Decimal("2.25"), "s": "null", "j": [1, {"a": 2}],
         "day": dt.date(2026, 1, 31), "at": dt.datetime(2026, 1, 31, 9, 30), "b": True,
         "z": None, "code": "005"},
        {"n": None, "x": 2.0, "d": None, "s": "", "j": None, "day": None,
         "at": dt.datetime(2026, 2, 1), "b": None, "z": None, "code": "5"},
    ]
    COLUMNS = list(ROWS[0])

    def described(table):
        return {
            "names": list(table.column_names),
            "types": [
                [type(t).__name__, sorted(map(str, t.null_values))] for t in table.column_types
            ],
            "rows": [[repr(value) for value in row.values()] for row in table.rows],
        }

    def tables():
        return {
            "flat": described(agate_helper.table_from_data_flat(ROWS, COLUMNS)),
            "flat_empty": described(agate_helper.table_from_data_flat([], COLUMNS)),
            "rows": described(agate_helper.table_from_rows(
                [[1, "a", None], [2, "null", dt.date(2026, 3, 1)]], ["n", "s", "day"])),
            "rows_text": described(agate_helper.table_from_rows(
                [[1, "", None], [2, "null", "2026-03-01"]], ["n", "s", "day"],
                text_only_columns={"s", "day"})),
            "empty": described(agate_helper.empty_table()),
            "tester": described(agate.Table(
                [["1", "2026-03-01", "null"]], ["a", "b", "c"],
                column_types=agate_helper.build_type_tester(["c"], string_null_values=["NULL"]))),
        }

    before = tables()
    installed = dbt_tuning.reuse_type_testers()
    again = dbt_tuning.reuse_type_testers()
    first = tables()

    # every date type a tester builds compiles a parsedatetime calendar: counted from here on
    calendars = []
    date_init = agate.data_types.Date.__init__

    def counting_init(self, *args, **kwargs):
        calendars.append(type(self).__name__)
        date_init(self, *args, **kwargs)

    agate.data_types.Date.__init__ = counting_init
    second = tables()
    calendars_again = len(calendars)
    same_tester = agate_helper.build_type_tester(
        ["s", "j"], string_null_values=()
    ) is agate_helper.build_type_tester(("j", "s"), string_null_values=[])
    print(json.dumps({
        "installed": installed,
        "again": again,
        "before": before,
        "first": first,
        "second": second,
        "calendars": calendars_again,
        "same_tester": same_tester,
        "threads": threading.active_count(),
    }))
    """
)


def test_type_testers_are_built_once_and_type_every_result_as_dbt_does() -> None:
    result = run_python(TYPE_TESTERS, "dbt")
    assert result["installed"] is True
    assert result["again"] is True
    # the same names, column types (with their null values) and values as dbt's own testers
    assert result["first"] == result["before"]
    assert result["second"] == result["before"]
    # every kind of result table is there, the flat one typed column by column
    flat = result["before"]["flat"]
    assert flat["types"][:4] == [
        ["Integer", ["", "null"]],
        ["Number", ["", "null"]],
        ["Number", ["", "null"]],
        ["Text", []],
    ]
    assert flat["rows"][0][3] == "'null'" and flat["rows"][1][3] == "''"
    assert result["before"]["empty"] == {"names": [], "types": [], "rows": []}
    # once built, the testers are reused: no date type, so no calendar, is built again
    assert result["calendars"] == 0
    # one tester for the same text columns and null values, whatever their order or container
    assert result["same_tester"] is True
    assert result["threads"] == 1


def test_type_testers_are_left_to_dbt_when_its_helper_takes_other_arguments() -> None:
    assert run_python(TYPE_TESTERS, "other-helper") == {"installed": False}
