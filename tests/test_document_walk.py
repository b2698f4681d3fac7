"""The walk of a large document's record list (`scan.DocumentWalk`, `_scan.c`'s sts_walk).

A document larger than a batch is read a slice of its list at a time (`slices.cut_document`):
the walk must find exactly the elements of the list, whatever blocks the document arrives in,
and say where a document stops being one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import scan

pytestmark = pytest.mark.skipif(not scan.available(), reason="the compiled splitter is not built")

_ROOT_KEYS = ("Records", "Events", "eventTime", "detail-type", "detail", "digestStartTime")

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
_other_keys = st.dictionaries(
    st.text(max_size=8).filter(lambda k: k not in _ROOT_KEYS and not k.startswith("sts-audit:")),
    _values,
    max_size=2,
)


def _walk(text: bytes, block: int) -> tuple[scan.DocumentWalk, list[bytes]]:
    walk = scan.DocumentWalk()
    found: list[bytes] = []
    for i in range(0, len(text), block):
        found += walk.feed(text[i : i + block])
    return walk, found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elements=st.lists(_values, max_size=8),
    list_key=st.sampled_from([None, "Records", "Events"]),
    before=_other_keys,
    after=_other_keys,
    indent=st.sampled_from([None, 2]),
    ascii_only=st.booleans(),
    block=st.integers(1, 64),
    cut=st.floats(0, 1, exclude_max=True),
)
def test_the_walk_finds_the_lists_elements_in_any_blocks(
    elements: list[Any],
    list_key: str | None,
    before: dict[str, Any],
    after: dict[str, Any],
    indent: int | None,
    ascii_only: bool,
    block: int,
    cut: float,
) -> None:
    doc: Any = elements if list_key is None else {**before, list_key: elements, **after}
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_only).encode()

    walk, found = _walk(text, block)
    walk.finish()

    shapes = {None: "array", "Records": "records", "Events": "lookup_events"}
    assert walk.shape == shapes[list_key]
    assert [json.loads(t) for t in found] == elements
    assert walk.elements == len(elements)

    # any part of the document: the elements it holds whole, then "truncated" at the end
    part = text[: int(len(text) * cut)]
    walk, found = _walk(part, block)
    assert [json.loads(t) for t in found] == elements[: len(found)]
    with pytest.raises(scan.WalkError, match="truncated"):
        walk.finish()


@pytest.mark.parametrize(
    ("text", "elements", "problem"),
    [
        (b'{"Records":[1,]}', [b"1"], "not valid JSON"),
        (b'{"Records":[1,,2]}', [b"1"], "not valid JSON"),
        (b'{"Records":[1}]}', [], "not valid JSON"),
        (b'{"Records":[1,2]}x', [b"1", b"2"], "something follows the end of the document"),
        (b"[1] [2]", [b"1"], "something follows the end of the document"),
        (b'{"Records":[1],"Events":[2]}', [b"1"], "a second record list"),
        (b'{"Records":[1],"Records":[2]}', [b"1"], "a second record list"),
        (b'{"Records":[1],"eventTime":"x"}', [b"1"], "a key of a record"),
        (b'"x"', [], "not a JSON array or object"),
        (b"[" * 300, [], "nested deeper than 256 levels"),
    ],
)
def test_where_a_document_stops_being_one_is_named(
    text: bytes, elements: list[bytes], problem: str
) -> None:
    walk, found = _walk(text, 3)
    assert found == elements
    assert walk.problem is not None and walk.problem.startswith(problem)
    with pytest.raises(scan.WalkError, match=problem):
        walk.finish()
    assert walk.feed(b"[1]") == []  # the walk ends where the document stopped being one


@pytest.mark.parametrize(
    "text",
    [
        b'{"eventTime":"2026-11-01T10:00:00Z","Records":[1]}',  # a record, not a list
        b'{"detail-type":"AWS API Call via CloudTrail","detail":{},"Records":[1]}',
        b'{"Records":"not a list","eventName":"x"}',
        b'{"records":[1]}',  # keys are case-sensitive, as DuckDB's paths are
        b'{"Rec\\u006frds":[1]}',  # an escaped key: read whole, by DuckDB
    ],
)
def test_a_document_with_no_record_list_has_no_shape(text: bytes) -> None:
    walk, found = _walk(text, 5)
    walk.finish()
    assert walk.shape is None and found == []
